package main

import (
	"context"
	"io"
)

// Run runs a command line as the roster command does and returns its exit
// status.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return run(ctx, args, stdout, stderr)
}

// Progress starts a progress line on w (as on a terminal), counts the bytes
// written through the writer it returns into it, and returns the function
// that ends it.
func Progress(w io.Writer, label string, out io.Writer) (io.Writer, func()) {
	p := startProgress(w, label, true)
	return p.writer(out), p.finish
}

// ProgressOff is Progress for a writer that is not a terminal: it shows
// nothing.
func ProgressOff(w io.Writer, label string, out io.Writer) (io.Writer, func()) {
	p := startProgress(w, label, isTerminal(w))
	return p.writer(out), p.finish
}

// ProgressEvery is how often the progress line is redrawn.
const ProgressEvery = progressEvery
