package main

import (
	"strings"
	"testing"
)

// TestNeedsKeys checks which command lines skip the check on locked
// memory: only those that print help, the version or a completion script.
// A wrong "no" would let memguard hang; a wrong "yes" only checks for
// nothing.
func TestNeedsKeys(t *testing.T) {
	for _, tc := range []struct {
		args string
		want bool
	}{
		{"", false},
		{"--version", false},
		{"-v", false},
		{"--help", false},
		{"-h", false},
		{"-q", false},
		{"help", false},
		{"help put", false},
		{"put --help", false},
		{"put -h", false},
		{"get ID -o out --help", false},
		{"-p help.profile --help", false},
		{"completion bash", false},
		{"__complete put ''", false},
		{"__completeNoDesc get", false},
		{"init", true},
		{"put file", true},
		{"list", true},
		{"profile check", true},
		{"-q list", true},
		// The value of a global flag is not the command.
		{"-p help list", true},
		{"--profile help list", true},
		{"--password-file completion put x", true},
		{"--password-command help get x", true},
		{"-qp help list", true},
		{"--profile=help", false},
		// "--help" as a flag's value is not help.
		{"get ID -o --help", true},
		{"put --name -h file", true},
		// After "--" everything is an argument.
		{"put -- --help", true},
		{"-- help", true},
		{"unknown", true},
	} {
		if got := needsKeys(strings.Fields(tc.args)); got != tc.want {
			t.Errorf("needsKeys(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}
