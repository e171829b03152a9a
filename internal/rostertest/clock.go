package rostertest

import (
	"sync"
	"time"
)

// Clock is a clock the tests move by hand, for roster.WithClock and the
// services' WithClock options (pass its Now). It is safe for concurrent
// use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock set to 2025-06-01 09:00 UTC.
func NewClock() *Clock {
	return &Clock{now: time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d (back, if d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
