package sqlstore

import (
	"context"

	"gorm.io/gorm"
)

// Handles returns the Store's write and read handles, for tests that look at
// the database directly.
func Handles(s *Store) (write, read *gorm.DB) { return s.w, s.r }

// Fail translates err as the Store translates every database error.
func Fail(s *Store, ctx context.Context, err error) error { return s.fail(ctx, err, "test") }
