package resume

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the parser of upload records, which anyone who can
// write the state directory controls. The fuzzer holds no key, only the seeds' MACs, so
// whatever decode accepts must carry exactly a seed's canonical bytes: an accepted record
// that differs would be a forgery, or two records the MAC cannot tell apart.
func FuzzDecode(f *testing.F) {
	key := recordKey(f, vectorMaster())
	seeds := []*Upload{example(), {ID: "x", Digests: map[int32][32]byte{}}}
	var canon [][]byte
	for _, u := range seeds {
		b, err := encode(u, key)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		canon = append(canon, canonical(u))
	}
	f.Add([]byte(`{"version":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		u, err := decode(data, key)
		if err != nil {
			if !errors.Is(err, ErrUntrusted) {
				t.Fatalf("decode: %v, want ErrUntrusted", err)
			}
			return
		}
		got := canonical(u)
		for _, c := range canon {
			if bytes.Equal(got, c) {
				return
			}
		}
		t.Fatalf("decode accepted a record no key holder wrote: %+v", u)
	})
}
