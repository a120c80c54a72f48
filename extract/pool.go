//go:build unix

package extract

import (
	"crypto/sha256"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

// smallFile is the largest file whose content the stream's goroutine reads
// into memory and hands to the pool; a larger one it writes itself.
const smallFile = 1 << 20

// job is a small file to write: its temporary, created and in the batch,
// and its content.
type job struct {
	f     *os.File
	data  []byte
	name  string // the path as the stream names it, for errors
	mode  os.FileMode
	mtime time.Time
	want  [32]byte
	check bool
}

// pool writes small files in parallel while the stream goroutine reads
// the next ones: per file, the write, the SHA-256 of Expect and the system
// calls of mode and time cost more than reading the stream. Memory stays
// bounded: two buffers of at most smallFile per goroutine.
type pool struct {
	x    *Extractor
	jobs chan job
	free chan []byte    // buffers not in use
	busy sync.WaitGroup // jobs given and not yet done
	done sync.WaitGroup // goroutines running

	mu      sync.Mutex
	err     error // the first failure: later jobs are dropped
	stopped bool
}

func newPool(x *Extractor) *pool {
	n := min(max(runtime.GOMAXPROCS(0), 4), 8)
	p := &pool{x: x, jobs: make(chan job, n), free: make(chan []byte, 2*n)}
	for range 2 * n {
		p.free <- nil
	}
	p.done.Add(n)
	for range n {
		go p.work()
	}
	return p
}

// run gives j to the pool, which closes its file and takes back its
// buffer.
func (p *pool) run(j job) {
	p.busy.Add(1)
	p.jobs <- j
}

func (p *pool) work() {
	defer p.done.Done()
	for j := range p.jobs {
		err := p.firstErr()
		if err == nil {
			err = p.write(j)
		}
		if cerr := j.f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("%q: %w", j.name, cerr)
		}
		if err != nil {
			p.mu.Lock()
			if p.err == nil {
				p.err = err
			}
			p.mu.Unlock()
		}
		p.free <- j.data[:0]
		p.busy.Done()
	}
}

func (p *pool) write(j job) error {
	if _, err := j.f.Write(j.data); err != nil {
		return fmt.Errorf("%q: %w", j.name, err)
	}
	startWriteback(j.f)
	var sum []byte
	if j.check {
		s := sha256.Sum256(j.data)
		sum = s[:]
	}
	return p.x.seal(j, sum)
}

func (p *pool) firstErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// poolErr is the pool's first failure, if any.
func (x *Extractor) poolErr() error {
	if x.pool == nil {
		return nil
	}
	return x.pool.firstErr()
}

// wait waits until every file given is written, and returns the first
// failure.
func (p *pool) wait() error {
	if p == nil {
		return nil
	}
	p.busy.Wait()
	return p.firstErr()
}

// stop ends the pool's goroutines once their files are written (or
// dropped).
func (p *pool) stop() {
	if p == nil || p.stopped {
		return
	}
	p.stopped = true
	close(p.jobs)
	p.done.Wait()
}
