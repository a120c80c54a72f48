package crypt

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// TestRecordKeyVector pins the record key and one MAC; the expected values were computed
// from docs/FORMAT.md §6 with Python's hmac and hashlib (HKDF written out as RFC 5869).
func TestRecordKeyVector(t *testing.T) {
	k, err := DeriveRecordKey(vectorMaster())
	if err != nil {
		t.Fatal(err)
	}
	defer k.Destroy()
	if got := hex.EncodeToString(k.secret.Bytes()); got != "5d3a52903c0fded36fc1bb99f569f731f103f09145cb212c90dea8babcb23db8" {
		t.Errorf("record key %s", got)
	}
	mac, err := k.MAC([]byte("ogive upload record test vector"))
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(mac[:]); got != "cfcade928d4fe1a5f8b9a873569b2d2102f44d5f1d81827b5486fa62c7612796" {
		t.Errorf("MAC %s", got)
	}
}

func TestRecordKeyRedactsAndDies(t *testing.T) {
	k, err := DeriveRecordKey(vectorMaster())
	if err != nil {
		t.Fatal(err)
	}
	secret := hex.EncodeToString(k.secret.Bytes())
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %x %s", k, k, k, k, k)} {
		if strings.Contains(s, secret) || !strings.Contains(s, "redacted") {
			t.Errorf("printed as %q", s)
		}
	}
	k.Destroy()
	k.Destroy()
	if _, err := k.MAC(nil); err == nil {
		t.Error("MAC after Destroy succeeded")
	}
	if _, err := DeriveRecordKey(make([]byte, 31)); err == nil {
		t.Error("a 31-byte master key was accepted")
	}
}
