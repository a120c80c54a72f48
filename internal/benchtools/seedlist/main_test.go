package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/ogive-project/ogive/archive"
	"github.com/ogive-project/ogive/crypt"
	"github.com/ogive-project/ogive/object"
	"github.com/ogive-project/ogive/profile"
)

// -endpoint replaces the profile's endpoint, and nothing else: make bench
// seeds directly the archives that a profile reaches through a WAN model.
func TestEndpointOverridesTheProfiles(t *testing.T) {
	p := &profile.Profile{Bucket: "b", Region: "r", Endpoint: "http://127.0.0.1:1", Prefix: "wan40/", PathStyle: true}
	c := s3Config(p, options{endpoint: "http://127.0.0.1:2"})
	if c.Endpoint != "http://127.0.0.1:2" || c.Bucket != "b" || c.Region != "r" || c.Prefix != "wan40/" || !c.PathStyle {
		t.Errorf("with -endpoint: %+v", c)
	}
	if c := s3Config(p, options{}); c.Endpoint != "http://127.0.0.1:1" {
		t.Errorf("without -endpoint: endpoint %q, want the profile's", c.Endpoint)
	}
}

func TestSeedCreatesListableArchives(t *testing.T) {
	master := bytes.Repeat([]byte{9}, crypt.MasterKeySize)
	s := object.NewMemory(nil, nil, 0)
	if err := seed(t.Context(), s, master, options{n: 25, concurrency: 4, size: 10}); err != nil {
		t.Fatalf("seed: %v", err)
	}
	var names []string
	err := archive.List(t.Context(), s, master, false, func(e archive.Entry) error {
		if e.Size != 10 || e.Status.State != object.StateArchived {
			t.Errorf("%s: size %d, state %v; want 10 bytes, archived", e.Name, e.Size, e.Status.State)
		}
		names = append(names, e.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	var want []string
	for i := range 25 {
		want = append(want, fmt.Sprintf("list-%05d", i))
	}
	if !slices.Equal(names, want) {
		t.Errorf("listed %v, want %v", names, want)
	}
}

// failingPut fails every upload after the first few.
type failingPut struct {
	*object.Memory
	left int
}

var errFull = errors.New("bucket full")

func (f *failingPut) Put(ctx context.Context, key string, body []byte, o object.PutOptions) error {
	if f.left == 0 {
		return errFull
	}
	f.left--
	return f.Memory.Put(ctx, key, body, o)
}

func TestSeedStopsAtTheFirstError(t *testing.T) {
	master := bytes.Repeat([]byte{9}, crypt.MasterKeySize)
	s := &failingPut{Memory: object.NewMemory(nil, nil, 0), left: 3}
	err := seed(t.Context(), s, master, options{n: 100, concurrency: 1, size: 1})
	if !errors.Is(err, errFull) {
		t.Fatalf("seed: %v, want the store's error", err)
	}
}
