package roster

// WithAnyMemoryBudget is WithMemoryBudget without its floor, so that tests
// can make a Roster replace its memory by a smaller one all the time.
func WithAnyMemoryBudget(bytes int64) Option {
	return func(c *config) { c.budget, c.budgetSet, c.anyBudget = bytes, true, true }
}
