package sqlstore

import (
	"fmt"

	"github.com/teamroster/roster/store"
)

// Option configures how OpenSQLite, OpenPostgres and New open a Store.
type Option func(*options)

type options struct {
	// checkOnly makes opening check the schema's version instead of
	// migrating it.
	checkOnly bool
}

// WithoutAutoMigrate makes opening a Store leave the schema alone: it only
// checks that the database's schema is at the version of this code, and
// returns ErrSchemaVersion, naming both versions, if it is not (older: run
// Migrate first, or the migration tool the SQL of MigrationSQL was handed
// to; newer: use a newer roster). Use it where the application's database
// user may not change the schema, or where schema changes are deployed on
// their own.
func WithoutAutoMigrate() Option { return func(o *options) { o.checkOnly = true } }

// applyOptions returns the options opts set, or an error wrapping
// store.ErrInvalid if one of them is nil.
func applyOptions(opts []Option) (options, error) {
	var o options
	for _, opt := range opts {
		if opt == nil {
			return o, fmt.Errorf("%w: nil option", store.ErrInvalid)
		}
		opt(&o)
	}
	return o, nil
}
