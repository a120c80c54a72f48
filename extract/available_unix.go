//go:build unix

package extract

var available error
