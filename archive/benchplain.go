//go:build ogive_bench_plaintext

package archive

// BenchmarkPlaintext is true only in the build that "make bench" times as
// the same upload path with encryption switched off (issue 5): it uploads
// files of more than one part WITHOUT encrypting them. Never use that build
// for data; ogive says so on every put it makes.
const BenchmarkPlaintext = true
