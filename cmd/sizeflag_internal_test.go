package cmd

import "testing"

// TestParseSize: --expected-size takes bytes, or a number and a unit of
// 1024 bytes (K, M, G, T, P, with B or iB or neither, in any case), with a
// fraction rounded up to the next byte; anything else is refused.
func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0":              0,
		"1":              1,
		"123B":           123,
		"1k":             1 << 10,
		"20MiB":          20 << 20,
		"500G":           500 << 30,
		"2T":             2 << 40,
		"5tb":            5 << 40,
		"1.5T":           3 << 39,
		"48.8T":          53_656_167_435_469, // 48.8 × 2⁴⁰ = …468.8, rounded up
		"53660876799999": 53_660_876_799_999,
		"8P":             8 << 50,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "abc", "5X", "1.5", "1..5G", " 5G", "5 G", "0x10", "1e3", "G", "5GG", "5iB", "inf", "9223372036854775808", "8192P"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
}
