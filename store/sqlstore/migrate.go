package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/teamroster/roster/store"
)

// ErrSchemaVersion means the database's schema is not at the version of
// this code: older, when a Store is opened WithoutAutoMigrate (run Migrate
// first), or newer, whether or not opening migrates (the database was
// migrated by a newer roster, and this code cannot know what changed). The
// error's text names both versions. It wraps store.ErrPrecondition.
var ErrSchemaVersion = store.Kinded(store.ErrPrecondition, "sqlstore: the database's schema is not at this code's version")

// migrationFiles holds the schema's migrations: one file per version,
// named "<4-digit version>_<name>.sql", numbered from 1 without gaps.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// codeMigrations are the migrations of this code, in order; the last one's
// version is the code's.
var codeMigrations = func() []migration {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err == nil {
		var set []migration
		if set, err = loadMigrations(sub); err == nil {
			return set
		}
	}
	panic("sqlstore: embedded migrations: " + err.Error()) // a build defect, caught by the package's tests
}()

// migration is one numbered migration: SQL with placeholders (see
// placeholders) ending in statements that end with a semicolon at the end
// of a line.
type migration struct {
	version int
	name    string
	sql     string
}

// migrationName is the form of a migration file's name.
var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// loadMigrations reads the migrations in the root of fsys. It returns an
// error if a file is misnamed, a version is missing or repeated, or a file
// ends with text after its last statement.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var set []migration
	for _, e := range entries { // sorted by name, so by version
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			return nil, fmt.Errorf("%s: not a migration file (want NNNN_name.sql)", e.Name())
		}
		version, _ := strconv.Atoi(m[1])
		if version != len(set)+1 {
			return nil, fmt.Errorf("%s: version %d, want %d", e.Name(), version, len(set)+1)
		}
		text, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		if _, rest := statements(string(text)); rest != "" {
			return nil, fmt.Errorf("%s: text after the last statement (a statement ends with ';' at the end of a line): %q", e.Name(), rest)
		}
		set = append(set, migration{version: version, name: m[2], sql: string(text)})
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("no migrations")
	}
	return set, nil
}

// placeholders fills in the migrations' placeholders for each dialect.
var placeholders = map[Dialect]*strings.Replacer{
	SQLite: strings.NewReplacer(
		"{text}", "TEXT",
		"{time}", "DATETIME",
		"{blob}", "BLOB",
		"{serial}", "INTEGER PRIMARY KEY AUTOINCREMENT",
		"{rule}", "TEXT",
	),
	Postgres: strings.NewReplacer(
		"{text}", `TEXT COLLATE "C"`,
		"{time}", "TIMESTAMPTZ",
		"{blob}", "BYTEA",
		"{serial}", "BIGSERIAL PRIMARY KEY",
		"{rule}", "VARCHAR(100)",
	),
}

// render returns m's SQL for dialect d, followed by the statement that
// records m in roster_schema_migrations: what Migrate runs and MigrationSQL
// returns.
func (m migration) render(d Dialect) string {
	return placeholders[d].Replace(m.sql) + fmt.Sprintf(`
-- Record this migration.
INSERT INTO roster_schema_migrations (version, name, applied_at) VALUES (%d, '%s', CURRENT_TIMESTAMP);
`, m.version, m.name)
}

// file is the name of m's file.
func (m migration) file() string { return fmt.Sprintf("%04d_%s.sql", m.version, m.name) }

// statements splits SQL into its statements, without their semicolons and
// whole-line comments, and returns what follows the last one.
func statements(sql string) (stmts []string, rest string) {
	var cur strings.Builder
	for line := range strings.Lines(sql) {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		if strings.HasSuffix(trimmed, ";") {
			cur.WriteString(strings.TrimSuffix(strings.TrimRight(line, " \t\r\n"), ";"))
			stmts = append(stmts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
	}
	return stmts, cur.String()
}

// Migration is one of roster's schema migrations, rendered for a dialect
// by MigrationSQL.
type Migration struct {
	// Version is the schema's version once the migration is applied: 1
	// for the first, and one more for each next.
	Version int
	// Name says what the migration does, in a file name's form
	// ("initial").
	Name string
	// SQL is the migration's statements, each ending with a semicolon at
	// the end of a line. The last one records the migration in
	// roster_schema_migrations, as Migrate does, so that a Store opened
	// WithoutAutoMigrate on a database migrated by another tool knows its
	// version.
	SQL string
}

// File returns the name of the migration's file in roster's source,
// "<4-digit version>_<name>.sql", such as "0001_initial.sql".
func (m Migration) File() string { return migration{version: m.Version, name: m.Name}.file() }

// MigrationSQL returns roster's schema migrations for dialect d, in the
// order they must be applied, for a migration tool of the application's own
// (goose, Atlas, Flyway and the like): apply each in a transaction of its
// own, and open Stores WithoutAutoMigrate. The SQL is what Migrate runs. It
// returns an error wrapping store.ErrInvalid for an unknown dialect. It is
// safe for concurrent use.
func MigrationSQL(d Dialect) ([]Migration, error) {
	if placeholders[d] == nil {
		return nil, fmt.Errorf("migration SQL: %w: unknown dialect %q", store.ErrInvalid, d)
	}
	out := make([]Migration, len(codeMigrations))
	for i, m := range codeMigrations {
		out[i] = Migration{Version: m.version, Name: m.name, SQL: m.render(d)}
	}
	return out, nil
}

// Migrate brings roster's schema in db, an application's gorm handle on
// SQLite or PostgreSQL (as for New), up to the version of this code. It
// applies the migrations the database lacks in order, each in a transaction
// of its own together with its row in roster_schema_migrations, so that a
// migration that fails leaves the schema at the version before it. Processes
// migrating one database at once wait for each other (on PostgreSQL an
// advisory lock, on SQLite the write lock) and apply each migration once.
//
// A database that has roster's tables from before migrations were numbered
// (they have no roster_schema_migrations) is adopted: the first migration
// creates what it lacks and adds the columns that the code of then added on
// opening.
//
// Opening a Store migrates too, unless WithoutAutoMigrate is given; Migrate
// is for deployments that change the schema in a step of their own. It
// returns an error wrapping store.ErrInvalid if db is nil or of another
// dialect, ErrSchemaVersion if the schema is newer than the code, the
// context's error (wrapped) if ctx ends first, and one wrapping
// store.ErrBackend if a migration fails. It is safe for concurrent use.
func Migrate(ctx context.Context, db *gorm.DB) error {
	s, err := wrap(db)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return s.migrate(ctx, codeMigrations)
}

// prepareSchema migrates the schema, or with o.checkOnly checks its
// version, and then learns what the Store needs to know about it.
func (s *Store) prepareSchema(ctx context.Context, o options) error {
	var err error
	if o.checkOnly {
		err = s.checkVersion(ctx, codeMigrations)
	} else {
		err = s.migrate(ctx, codeMigrations)
	}
	if err != nil {
		return err
	}
	if s.dialect == Postgres {
		var schema string
		if err := s.w.WithContext(ctx).Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
			return s.fail(ctx, err, "current schema")
		}
		s.channel = channelFor(schema)
	}
	return nil
}

// migrateLockID is the PostgreSQL advisory lock key that serializes
// migrations between processes opening the same database at once. The value
// is arbitrary; roster versions before numbered migrations took it too.
const migrateLockID = 0x726f73746572 // "roster"

// migrate applies the migrations of set that the database lacks, one
// transaction each.
func (s *Store) migrate(ctx context.Context, set []migration) error {
	for {
		done, err := s.migrateStep(ctx, set)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the next migration of set that the database lacks,
// in a transaction of its own, or reports that there is none.
func (s *Store) migrateStep(ctx context.Context, set []migration) (done bool, err error) {
	var opts *sql.TxOptions
	if s.dialect == Postgres {
		// Each statement sees what committed before it began, so the
		// version read after the lock is granted is current.
		opts = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	gtx := s.w.WithContext(ctx).Begin(opts)
	if err := gtx.Error; err != nil {
		return false, s.fail(ctx, err, "migrate: begin")
	}
	committed := false
	defer func() {
		if !committed {
			gtx.Rollback() // its own error changes nothing
		}
	}()
	if s.dialect == Postgres {
		if err := gtx.Exec("SELECT pg_advisory_xact_lock(?)", int64(migrateLockID)).Error; err != nil {
			return false, s.fail(ctx, err, "migrate: lock")
		}
	}
	version, legacy, err := s.schemaVersion(ctx, gtx)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	switch {
	case version > len(set):
		return false, fmt.Errorf("migrate: %w", versionError(version, len(set)))
	case version == len(set):
		return true, nil
	}
	m := set[version]
	stmts, _ := statements(m.render(s.dialect))
	for _, stmt := range stmts {
		if err := gtx.Exec(stmt).Error; err != nil {
			return false, s.fail(ctx, err, "migrate: %s: %s", m.file(), firstLine(stmt))
		}
	}
	if legacy {
		if err := s.addLegacyColumns(ctx, gtx); err != nil {
			return false, err
		}
	}
	if err := gtx.Commit().Error; err != nil {
		return false, s.fail(ctx, err, "migrate: %s: commit", m.file())
	}
	committed = true
	return false, nil
}

// firstLine returns the first line of a statement, which names what it
// changes.
func firstLine(stmt string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(stmt), "\n")
	return strings.TrimSuffix(line, " (")
}

// checkVersion returns ErrSchemaVersion unless the database's schema is at
// the version of set's last migration.
func (s *Store) checkVersion(ctx context.Context, set []migration) error {
	version, _, err := s.schemaVersion(ctx, s.w.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("check schema: %w", err)
	}
	if version != len(set) {
		return fmt.Errorf("check schema: %w", versionError(version, len(set)))
	}
	return nil
}

// versionError is the error of a database whose schema is at version db
// while the code's is at code.
func versionError(db, code int) error {
	if db > code {
		return fmt.Errorf("%w: it is at version %d, newer than this code's version %d; use a newer roster", ErrSchemaVersion, db, code)
	}
	return fmt.Errorf("%w: it is at version %d, older than this code's version %d; run sqlstore.Migrate", ErrSchemaVersion, db, code)
}

// tableExists is the query, per dialect, that finds a table in the schema
// the store's tables live in.
var tableExists = map[Dialect]string{
	SQLite:   "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
	Postgres: "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?",
}

// schemaVersion returns the version of the schema db holds: that of the
// newest migration recorded, or 0 without roster_schema_migrations, in
// which case legacy says whether the database has roster's tables from
// before numbered migrations.
func (s *Store) schemaVersion(ctx context.Context, db *gorm.DB) (version int, legacy bool, err error) {
	versioned, err := exists(db, tableExists[s.dialect], "roster_schema_migrations")
	if err != nil {
		return 0, false, s.fail(ctx, err, "look for the migrations table")
	}
	if !versioned {
		legacy, err = exists(db, tableExists[s.dialect], "roster_meta")
		if err != nil {
			return 0, false, s.fail(ctx, err, "look for roster's tables")
		}
		return 0, legacy, nil
	}
	if err := db.Raw("SELECT COALESCE(MAX(version), 0) FROM roster_schema_migrations").Scan(&version).Error; err != nil {
		return 0, false, s.fail(ctx, err, "read the schema's version")
	}
	return version, false, nil
}

// legacyColumns are the columns that roster added, when they were missing,
// to the tables of databases it opened before migrations were numbered.
// Adopting such a database adds those still missing; the first migration
// creates the rest of what it lacks. Placeholders are those of the
// migrations.
var legacyColumns = []struct{ table, column, definition string }{
	{"roster_invites", "superseded_by", "{text} NOT NULL DEFAULT ''"},
	{"roster_invites", "resent_by", "{text} NOT NULL DEFAULT ''"},
	{"roster_invites", "resent_at", "{time}"},
	{"roster_changes", "actions", "{text} NOT NULL DEFAULT ''"},
	// Transfers stored before kinds existed granted the top role.
	{"roster_transfers", "kind", "{text} NOT NULL DEFAULT 'role'"},
}

// columnExists is the query, per dialect, that finds a column of a table in
// the schema the store's tables live in.
var columnExists = map[Dialect]string{
	SQLite:   "SELECT 1 FROM pragma_table_info(?) WHERE name = ?",
	Postgres: "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?",
}

// addLegacyColumns adds the legacyColumns that db, a transaction, lacks.
func (s *Store) addLegacyColumns(ctx context.Context, db *gorm.DB) error {
	for _, c := range legacyColumns {
		ok, err := exists(db, columnExists[s.dialect], c.table, c.column)
		if err != nil {
			return s.fail(ctx, err, "migrate: look for column %s.%s", c.table, c.column)
		}
		if ok {
			continue
		}
		if err := db.Exec("ALTER TABLE " + c.table + " ADD COLUMN " + c.column + " " + placeholders[s.dialect].Replace(c.definition)).Error; err != nil {
			return s.fail(ctx, err, "migrate: add column %s.%s", c.table, c.column)
		}
	}
	return nil
}
