// Command cgofree is a PostgreSQL-only program, built with CGO_ENABLED=0 by
// the sqlstore tests: it shows that such a program builds without cgo, that
// opening SQLite then fails with sqlstore.ErrNoCgo instead of a panic, and
// that PostgreSQL works.
//
// Usage: cgofree sqlite-path [postgres-dsn]
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/store/sqlstore"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "cgofree:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) < 1 {
		return errors.New("usage: cgofree sqlite-path [postgres-dsn]")
	}
	if _, err := sqlstore.OpenSQLite(args[0]); !errors.Is(err, sqlstore.ErrNoCgo) || !errors.Is(err, store.ErrBackend) {
		return fmt.Errorf("OpenSQLite = %v, want ErrNoCgo", err)
	}
	fmt.Println("sqlite: refused without cgo")
	if len(args) < 2 {
		return nil
	}
	s, err := sqlstore.OpenPostgres(args[1])
	if err != nil {
		return err
	}
	r, err := roster.New(ctx, s, rbac.DigitalOcean())
	if err != nil {
		return errors.Join(err, s.Close())
	}
	_, err = r.Teams.CreateUser(ctx, store.User{ID: "alice", Email: "alice@example.com", Name: "Alice", SignIn: store.SignInEmail})
	if err := errors.Join(err, r.Close(), s.Close()); err != nil {
		return err
	}
	fmt.Println("postgres: ok")
	return nil
}
