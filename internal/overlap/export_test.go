package overlap

import "time"

// SetTimeout sets how long the barrier waits, for the tests of a round
// that cannot meet it; it returns a function restoring the old value.
func SetTimeout(d time.Duration) (restore func()) {
	old := timeout
	timeout = d
	return func() { timeout = old }
}
