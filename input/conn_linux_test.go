package input

import (
	"io"
	"os"
	"strings"
	"testing"
)

// A terminal whose input and output are apart, as a Windows console is
// (CONIN$ and CONOUT$): what an answer echoes, and the line Interrupt
// moves past the prompt with, go to the output, never to the input.
func TestConnSeparateOutput(t *testing.T) {
	p := newPTY(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c := conn{in: p.slave, out: w}
	if err := waiting.start(c); err != nil {
		t.Fatal(err)
	}
	p.typeAfter(t, "", "abc\n", true)
	line, err := readTerminalLine(c, true)
	if err != nil || line == nil || string(line.Bytes()) != "abc" {
		t.Fatalf("read %v, %v; want abc", line, err)
	}
	line.Destroy()
	t.Cleanup(func() {
		waiting.mu.Lock()
		waiting.interrupted = false
		waiting.mu.Unlock()
	})
	if !Interrupt() {
		t.Fatal("Interrupt found no prompt")
	}
	w.Close()
	out, err := io.ReadAll(r)
	if err != nil || string(out) != "abc\n" {
		t.Errorf("the output got %q, %v; want the echo and the interrupt's line", out, err)
	}
	if shown := p.displayed(); strings.Contains(shown, "abc") {
		t.Errorf("the terminal's input side shows %q", shown)
	}
}
