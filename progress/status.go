package progress

import (
	"io"
	"sync"
	"time"
)

// Status is one line on a terminal, redrawn in place every tick from a
// function of the time it has been shown, so that a long wait shows that
// it is alive without filling the screen or a log with a line per check.
type Status struct {
	w      io.Writer
	width  func() int
	text   func(shown time.Duration) string
	start  time.Time
	mu     sync.Mutex
	drawn  bool
	stop   chan struct{}
	exited chan struct{}
}

// statusTick is how often a Status is redrawn: its text counts seconds.
const statusTick = time.Second

// StartStatus shows text on w, a terminal whose width in columns width
// returns (nil: 80), until Stop. The line is cut to fit.
func StartStatus(w io.Writer, width func() int, text func(shown time.Duration) string) *Status {
	s := &Status{w: w, width: width, text: text, start: time.Now(),
		stop: make(chan struct{}), exited: make(chan struct{})}
	s.draw()
	go func() {
		defer close(s.exited)
		tick := time.NewTicker(statusTick)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-tick.C:
				s.draw()
			}
		}
	}()
	return s
}

// Println prints a line of its own above the status line.
func (s *Status) Println(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.erase()
	_, _ = io.WriteString(s.w, msg+"\n")
}

// Stop erases the line and ends its redrawing. It may be called more than once.
func (s *Status) Stop() {
	s.mu.Lock()
	stop := s.stop
	s.stop = nil
	s.mu.Unlock()
	if stop == nil {
		return
	}
	close(stop)
	<-s.exited
	s.mu.Lock()
	defer s.mu.Unlock()
	s.erase()
}

func (s *Status) draw() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop == nil {
		return
	}
	cols := columnsOf(s.width)
	line := s.text(time.Since(s.start))
	if n := cols - margin; columns(line) > n {
		line = shorten(line, max(n, 1))
	}
	_, _ = io.WriteString(s.w, "\r"+line+"\x1b[K")
	s.drawn = true
}

// erase is Transfer.erase for a Status. The caller holds s.mu.
func (s *Status) erase() {
	if s.drawn {
		_, _ = io.WriteString(s.w, "\r\x1b[K")
		s.drawn = false
	}
}
