package archive

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

// TestInterruptibleRead: a read blocked on a silent pipe returns when ctx
// ends; before that, reads give the stream's bytes in order.
func TestInterruptibleRead(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	r := &interruptible{ctx: ctx, r: pr}
	go pw.Write([]byte("abc"))
	buf := make([]byte, 8)
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "abc" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	done := make(chan error, 1)
	go func() { _, err := r.Read(buf); done <- err }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("blocked Read ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a Read blocked on a silent pipe did not end with ctx")
	}
	if _, err := r.Read(buf); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read after ctx ended: %v", err)
	}
	all, err := io.ReadAll(&interruptible{ctx: context.Background(), r: bytes.NewReader(bytes.Repeat([]byte("xyz"), 100000))})
	if err != nil || len(all) != 300000 {
		t.Fatalf("ReadAll: %d bytes, %v", len(all), err)
	}
}

// TestBudgetTwoLargeParts: parts larger than the budget go two at a time
// (one spooled while the other is sent), never three.
func TestBudgetTwoLargeParts(t *testing.T) {
	b := newBudget(1 << 30)
	const part = 3 << 30
	for i := range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if err := b.take(ctx, part); err != nil {
			t.Fatalf("part %d of %d bytes not let through: %v", i+1, part, err)
		}
		cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := b.take(ctx, part); err == nil {
		t.Fatal("a third large part was let through")
	}
	b.give(part)
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	if err := b.take(ctx2, part); err != nil {
		t.Fatalf("a part after one was given back: %v", err)
	}
	// Small parts stay within the budget.
	small := newBudget(1 << 30)
	for range 4 {
		small.take(context.Background(), 256<<20)
	}
	ctx3, cancel3 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel3()
	if err := small.take(ctx3, 256<<20); err == nil {
		t.Fatal("a fifth 256 MiB part went past the 1 GiB budget")
	}
}
