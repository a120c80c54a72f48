// Package harden shuts other processes out of ogive's memory, where the
// master key, archive keys and passwords are while a command runs.
package harden
