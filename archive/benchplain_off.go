//go:build !ogive_bench_plaintext

package archive

// BenchmarkPlaintext is false in every real build: see benchplain.go.
const BenchmarkPlaintext = false
