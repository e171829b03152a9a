package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store/sqlstore"
)

// dbFlags are the flags naming the database and the policy.
type dbFlags struct {
	db     string
	policy string
}

// addDB adds -db to fs.
func (f *dbFlags) addDB(fs *flag.FlagSet) {
	fs.StringVar(&f.db, "db", "", "the database: a SQLite file or a postgres:// URL (required)")
}

// addPolicy adds -policy to fs.
func (f *dbFlags) addPolicy(fs *flag.FlagSet) {
	fs.StringVar(&f.policy, "policy", "runpod", "the policy: runpod, digitalocean or MODEL.conf,POLICY.csv")
}

// isPostgres reports whether dsn names a PostgreSQL database rather than a
// SQLite file.
func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// dialect returns the dialect of the database dsn names.
func dialect(dsn string) sqlstore.Dialect {
	if isPostgres(dsn) {
		return sqlstore.Postgres
	}
	return sqlstore.SQLite
}

// openStore opens the store of f.db. Unless create is set, a SQLite file
// must exist: a mistyped path is refused instead of becoming a new, empty
// database.
func (f *dbFlags) openStore(create bool, opts ...sqlstore.Option) (*sqlstore.Store, error) {
	if f.db == "" {
		return nil, usagef("-db is required")
	}
	if isPostgres(f.db) {
		return sqlstore.OpenPostgres(f.db, opts...)
	}
	if !create {
		if _, err := os.Stat(f.db); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: no such database file (roster migrate -db creates one)", f.db)
		}
	}
	return sqlstore.OpenSQLite(f.db, opts...)
}

// loadPolicy returns the policy f.policy names.
func (f *dbFlags) loadPolicy() (*rbac.Policy, error) {
	switch f.policy {
	case "runpod":
		return rbac.Runpod(), nil
	case "digitalocean":
		return rbac.DigitalOcean(), nil
	}
	model, policy, ok := strings.Cut(f.policy, ",")
	if !ok || model == "" || policy == "" {
		return nil, usagef("-policy %q: want runpod, digitalocean or MODEL.conf,POLICY.csv", f.policy)
	}
	p, err := rbac.Load(model, policy)
	if err != nil {
		return nil, fmt.Errorf("-policy: %w", err)
	}
	return p, nil
}

// session is an open database with a Roster on it.
type session struct {
	*roster.Roster
	store *sqlstore.Store
}

// open loads the policy and opens the database, whose schema must be at
// this code's version, and a Roster on it. The caller closes the session.
func (f *dbFlags) open(ctx context.Context) (*session, error) {
	p, err := f.loadPolicy()
	if err != nil {
		return nil, err
	}
	s, err := f.openStore(false, sqlstore.WithoutAutoMigrate())
	if err != nil {
		if errors.Is(err, sqlstore.ErrSchemaVersion) {
			return nil, fmt.Errorf("%w (roster migrate -db brings it up to date)", err)
		}
		return nil, err
	}
	r, err := roster.New(ctx, s, p)
	if err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return &session{Roster: r, store: s}, nil
}

// Close closes the Roster and the store.
func (s *session) Close() error {
	return errors.Join(s.Roster.Close(), s.store.Close())
}

// withSession opens the session f names, calls fn with it and closes it,
// and returns the error of any step.
func (f *dbFlags) withSession(ctx context.Context, fn func(*session) error) error {
	s, err := f.open(ctx)
	if err != nil {
		return err
	}
	return errors.Join(fn(s), s.Close())
}
