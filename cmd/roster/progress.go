package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// progressEvery is how often a progress line is redrawn.
const progressEvery = 200 * time.Millisecond

// progress redraws one line on a terminal with what a long command has done
// so far and for how long. Its methods are safe for concurrent use; those
// of a nil *progress do nothing.
type progress struct {
	w     io.Writer
	label string
	start time.Time
	bytes atomic.Int64
	stop  chan struct{}
	done  sync.WaitGroup
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// startProgress starts redrawing a progress line labelled label on w, if on;
// otherwise it returns nil. Stop it with finish.
func startProgress(w io.Writer, label string, on bool) *progress {
	if !on {
		return nil
	}
	p := &progress{w: w, label: label, start: time.Now(), stop: make(chan struct{})}
	p.done.Add(1)
	go func() {
		defer p.done.Done()
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw()
			}
		}
	}()
	return p
}

// draw writes the progress line over the previous one.
func (p *progress) draw() {
	line := fmt.Sprintf("%s: %s", p.label, time.Since(p.start).Round(time.Second))
	if n := p.bytes.Load(); n > 0 {
		line += fmt.Sprintf(", %d bytes written", n)
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
}

// writer returns w counting the bytes written through it into the line.
func (p *progress) writer(w io.Writer) io.Writer {
	if p == nil {
		return w
	}
	return countingWriter{w: w, n: &p.bytes}
}

// finish stops the redrawing and erases the line.
func (p *progress) finish() {
	if p == nil {
		return
	}
	close(p.stop)
	p.done.Wait()
	fmt.Fprint(p.w, "\r\033[K")
}

// countingWriter adds the bytes written through it to n.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}
