package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/teamroster/roster/store/sqlstore"
)

// runMigrate is "roster migrate": it brings the schema of -db up to date
// (opening a store migrates it, as sqlstore.Migrate does), reports its
// version with -check, or writes the migrations' SQL for a dialect to a
// directory with -export.
func runMigrate(_ context.Context, args []string, stdout, stderr io.Writer) int {
	const name = "migrate"
	fs := newFlags(name, "migrate -db DB [-check] | migrate -export DIR -dialect sqlite|postgres", stderr)
	var f dbFlags
	f.addDB(fs)
	check := fs.Bool("check", false, "report the schema's version without changing it; exit 1 unless it is this code's")
	export := fs.String("export", "", "write the migrations as SQL files to this directory instead")
	dialectName := fs.String("dialect", "", "with -export: the SQL dialect, sqlite or postgres")
	if _, err := parse(fs, args); err != nil {
		return fail(stderr, name, err)
	}
	var err error
	switch {
	case *export != "":
		if f.db != "" || *check {
			err = usagef("-export writes files only: it takes -dialect, not -db or -check")
		} else {
			err = exportMigrations(*export, *dialectName, stdout)
		}
	case *dialectName != "":
		err = usagef("-dialect goes with -export; the dialect of -db is known from it")
	case *check:
		err = checkSchema(&f, stdout)
	default:
		err = migrate(&f, stdout)
	}
	if err != nil {
		return fail(stderr, name, err)
	}
	return exitOK
}

// codeVersion returns the schema version of this code for dialect d.
func codeVersion(d sqlstore.Dialect) (int, error) {
	ms, err := sqlstore.MigrationSQL(d)
	return len(ms), err
}

// checkSchema reports whether the schema of f.db is at this code's
// version, changing nothing.
func checkSchema(f *dbFlags, stdout io.Writer) error {
	s, err := f.openStore(false, sqlstore.WithoutAutoMigrate())
	if err != nil {
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}
	v, err := codeVersion(dialect(f.db))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema at version %d: up to date\n", v)
	return nil
}

// migrate applies the migrations the schema of f.db lacks, creating a
// SQLite file if there is none.
func migrate(f *dbFlags, stdout io.Writer) error {
	v, err := codeVersion(dialect(f.db))
	if err != nil {
		return err
	}
	s, err := f.openStore(true, sqlstore.WithoutAutoMigrate())
	if err == nil {
		if err := s.Close(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "schema at version %d: up to date\n", v)
		return nil
	}
	if !errors.Is(err, sqlstore.ErrSchemaVersion) {
		return err
	}
	if s, err = f.openStore(true); err != nil {
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema migrated to version %d\n", v)
	return nil
}

// exportMigrations writes the migrations of the dialect named d to dir,
// one file each, named as in roster's source.
func exportMigrations(dir, d string, stdout io.Writer) error {
	if d != string(sqlstore.SQLite) && d != string(sqlstore.Postgres) {
		return usagef("-dialect %q: want sqlite or postgres", d)
	}
	ms, err := sqlstore.MigrationSQL(sqlstore.Dialect(d))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, m := range ms {
		path := filepath.Join(dir, m.File())
		if err := os.WriteFile(path, []byte(m.SQL), 0o644); err != nil {
			return err
		}
		fmt.Fprintln(stdout, path)
	}
	return nil
}
