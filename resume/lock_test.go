package resume

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLockIsExclusive(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "ogive", "uploads"))
	l, err := s.Lock("b", "p/", "/data/a.tar")
	if err != nil {
		t.Fatal(err)
	}
	// flock belongs to an open file: a second open in the same process conflicts too.
	_, err = s.Lock("b", "p/", "/data/a.tar")
	var busy *BusyError
	if !errors.As(err, &busy) || !errors.Is(err, ErrBusy) || busy.PID != os.Getpid() || busy.Path != "/data/a.tar" {
		t.Fatalf("second Lock: %v", err)
	}
	if err.Error() != "another ogive (pid "+itoa(os.Getpid())+") is uploading /data/a.tar" {
		t.Errorf("message %q", err)
	}
	// Another source is another lock.
	other, err := s.Lock("b", "p/", "/data/b.tar")
	if err != nil {
		t.Fatalf("lock of another source: %v", err)
	}
	other.Release()
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	if names := dirNames(t, s.Dir()); len(names) != 0 {
		t.Errorf("left after Release: %v", names)
	}
	again, err := s.Lock("b", "p/", "/data/a.tar")
	if err != nil {
		t.Fatalf("Lock after Release: %v", err)
	}
	again.Release()
}

// TestStaleLockFileIsTaken: a lock file left by a process that was killed holds no lock;
// the next Lock takes it and its Release removes it.
func TestStaleLockFileIsTaken(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "ogive", "uploads"))
	stale := filepath.Join(s.Dir(), base("b", "", "/x")+".lock")
	if err := os.WriteFile(stale, []byte("99999999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := s.Lock("b", "", "/x")
	if err != nil {
		t.Fatalf("stale lock file: %v", err)
	}
	if b, _ := os.ReadFile(stale); string(b) != itoa(os.Getpid())+"\n" {
		t.Errorf("lock file holds %q", b)
	}
	l.Release()
	if _, err := os.Lstat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale lock file left: %v", err)
	}
}

func TestLockFileSymlinkIsRefused(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, filepath.Join(dir, "ogive", "uploads"))
	target := filepath.Join(dir, "victim")
	os.WriteFile(target, []byte("keep"), 0o600)
	if err := os.Symlink(target, filepath.Join(s.Dir(), base("b", "", "/x")+".lock")); err != nil {
		t.Fatal(err)
	}
	if l, err := s.Lock("b", "", "/x"); err == nil {
		l.Release()
		t.Fatal("locked through a symlink")
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Fatalf("the symlink's target was written: %q", b)
	}
}

// TestLockExcludesUnderChurn has many lockers take and release one lock as fast as they
// can. Release unlinks the file, so a locker that opened it just before may lock a file
// nobody else will open again while another creates a new one: without the check that
// the locked file is still the one at the name, two would hold the lock at once.
func TestLockExcludesUnderChurn(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "ogive", "uploads"))
	var holders, maxHolders, taken atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 400 {
				l, err := s.Lock("b", "", "/x")
				if errors.Is(err, ErrBusy) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				taken.Add(1)
				n := holders.Add(1)
				for m := maxHolders.Load(); n > m && !maxHolders.CompareAndSwap(m, n); m = maxHolders.Load() {
				}
				time.Sleep(100 * time.Microsecond)
				holders.Add(-1)
				l.Release()
			}
		}()
	}
	wg.Wait()
	if maxHolders.Load() > 1 {
		t.Fatalf("%d lockers held the lock at once", maxHolders.Load())
	}
	if taken.Load() == 0 {
		t.Fatal("nobody ever took the lock")
	}
	t.Logf("lock taken %d times", taken.Load())
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestLockIDIsExclusive: the lock of a storage ID excludes a second taker, whose error
// names the upload as the second taker called it, is distinct from the lock of a source
// whose path is the same text, and leaves no file once released.
func TestLockIDIsExclusive(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "ogive", "uploads"))
	l, err := s.LockID("b", "p/", "Aid", "stdin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(s.Dir(), base("b", "p/", "Aid")+".id.lock")); err != nil {
		t.Fatalf("lock file: %v", err)
	}
	_, err = s.LockID("b", "p/", "Aid", "nightly.tar")
	var busy *BusyError
	if !errors.As(err, &busy) || busy.PID != os.Getpid() {
		t.Fatalf("second LockID: %v", err)
	}
	if err.Error() != "another ogive (pid "+itoa(os.Getpid())+") is uploading nightly.tar" {
		t.Errorf("message %q", err)
	}
	for _, other := range []func() (*Lock, error){
		func() (*Lock, error) { return s.LockID("b", "p/", "Aother", "x") },
		func() (*Lock, error) { return s.LockID("b", "q/", "Aid", "x") },
		func() (*Lock, error) { return s.Lock("b", "p/", "Aid") },
	} {
		o, err := other()
		if err != nil {
			t.Fatalf("another lock: %v", err)
		}
		o.Release()
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, s.Dir()); len(names) != 0 {
		t.Errorf("left after Release: %v", names)
	}
}
