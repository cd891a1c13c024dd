package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations[i] brings the schema from version i to i+1. Append only:
// released migrations never change.
var migrations = [][]string{
	{ // 1: appointments, leads, businesses, API keys, leases
		`CREATE TABLE appointments (
			business_id     TEXT NOT NULL,
			id              TEXT NOT NULL,
			service_id      TEXT NOT NULL,
			service_name    TEXT NOT NULL,
			duration_ns     INTEGER NOT NULL,
			buffer_ns       INTEGER NOT NULL,
			price           INTEGER NOT NULL,
			currency        TEXT NOT NULL,
			start_ns        INTEGER NOT NULL,
			end_ns          INTEGER NOT NULL,
			block_end_ns    INTEGER NOT NULL, -- end plus buffer: what overlap checks use
			status          TEXT NOT NULL,
			customer_name   TEXT NOT NULL,
			phone           TEXT NOT NULL,
			lead_id         TEXT NOT NULL,
			idempotency_key TEXT NOT NULL,
			sms_status      TEXT NOT NULL,
			sms_error       TEXT NOT NULL,
			created_ns      INTEGER NOT NULL,
			updated_ns      INTEGER NOT NULL,
			PRIMARY KEY (business_id, id)
		) WITHOUT ROWID`,
		`CREATE UNIQUE INDEX appointments_idempotency ON appointments (business_id, idempotency_key) WHERE idempotency_key <> ''`,
		`CREATE INDEX appointments_start ON appointments (business_id, start_ns, id)`,
		`CREATE INDEX appointments_booked ON appointments (business_id, start_ns) WHERE status = 'booked'`,
		`CREATE TABLE leads (
			business_id     TEXT NOT NULL,
			id              TEXT NOT NULL,
			name            TEXT NOT NULL,
			phone           TEXT NOT NULL,
			email           TEXT NOT NULL,
			company         TEXT NOT NULL,
			notes           TEXT NOT NULL,
			source          TEXT NOT NULL,
			status          TEXT NOT NULL,
			score           INTEGER NOT NULL,
			call_ids        TEXT NOT NULL, -- JSON array
			appointment_ids TEXT NOT NULL, -- JSON array
			created_ns      INTEGER NOT NULL,
			updated_ns      INTEGER NOT NULL,
			PRIMARY KEY (business_id, id)
		) WITHOUT ROWID`,
		`CREATE UNIQUE INDEX leads_phone ON leads (business_id, phone) WHERE phone <> ''`,
		`CREATE TABLE businesses (
			id         TEXT PRIMARY KEY,
			version    INTEGER NOT NULL,
			data       BLOB NOT NULL,
			created_ns INTEGER NOT NULL,
			updated_ns INTEGER NOT NULL
		) WITHOUT ROWID`,
		`CREATE TABLE api_keys (
			id          TEXT PRIMARY KEY,
			business_id TEXT NOT NULL,
			hash        BLOB NOT NULL,
			role        TEXT NOT NULL,
			name        TEXT NOT NULL,
			created_ns  INTEGER NOT NULL,
			revoked_ns  INTEGER NOT NULL
		) WITHOUT ROWID`,
		`CREATE INDEX api_keys_business ON api_keys (business_id, id)`,
		`CREATE TABLE leases (
			name       TEXT PRIMARY KEY,
			holder     TEXT NOT NULL,
			expires_ns INTEGER NOT NULL
		) WITHOUT ROWID`,
	},
	{ // 2: calls, legal holds, the audit log, retention timers
		`CREATE TABLE calls (
			business_id         TEXT NOT NULL,
			id                  TEXT NOT NULL,
			transport           TEXT NOT NULL,
			carrier_sid         TEXT NOT NULL,
			from_number         TEXT NOT NULL,
			to_number           TEXT NOT NULL,
			lead_id             TEXT NOT NULL,
			started_ns          INTEGER NOT NULL,
			ended_ns            INTEGER NOT NULL,
			outcome             TEXT NOT NULL,
			recording_id        TEXT NOT NULL,
			transcript_id       TEXT NOT NULL,
			recording_expires_ns  INTEGER NOT NULL,
			transcript_expires_ns INTEGER NOT NULL,
			disclosed           INTEGER NOT NULL,
			recording_stopped_ns INTEGER NOT NULL,
			created_ns          INTEGER NOT NULL,
			updated_ns          INTEGER NOT NULL,
			PRIMARY KEY (business_id, id)
		) WITHOUT ROWID`,
		`CREATE UNIQUE INDEX calls_id ON calls (id)`, // call IDs name files: unique across businesses
		`CREATE INDEX calls_started ON calls (business_id, started_ns, id)`,
		`CREATE INDEX calls_from ON calls (business_id, from_number) WHERE from_number <> ''`,
		`CREATE INDEX calls_lead ON calls (business_id, lead_id) WHERE lead_id <> ''`,
		`CREATE TABLE holds (
			business_id TEXT NOT NULL,
			scope       TEXT NOT NULL,
			target      TEXT NOT NULL,
			reason      TEXT NOT NULL,
			by_actor    TEXT NOT NULL,
			at_ns       INTEGER NOT NULL,
			PRIMARY KEY (business_id, scope, target)
		) WITHOUT ROWID`,
		`CREATE TABLE audit (
			seq         INTEGER PRIMARY KEY AUTOINCREMENT,
			business_id TEXT NOT NULL,
			id          TEXT NOT NULL UNIQUE,
			at_ns       INTEGER NOT NULL,
			actor       TEXT NOT NULL,
			action      TEXT NOT NULL,
			target      TEXT NOT NULL,
			reason      TEXT NOT NULL
		)`,
		`CREATE INDEX audit_business ON audit (business_id, seq)`,
		// Append-only, also against someone with a SQL shell on the node.
		`CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END`,
		`CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END`,
		`CREATE TABLE timers (
			id          TEXT PRIMARY KEY,
			business_id TEXT NOT NULL,
			kind        TEXT NOT NULL,
			target      TEXT NOT NULL,
			due_ns      INTEGER NOT NULL
		) WITHOUT ROWID`,
		`CREATE INDEX timers_due ON timers (due_ns, id)`,
		`CREATE INDEX timers_business ON timers (business_id, id)`,
	},
}

// SchemaVersion is the schema version this binary migrates to.
var SchemaVersion = len(migrations)

// migrate applies pending migrations in one immediate transaction, so two
// processes starting together do not both apply them.
func (s *Store) migrate(ctx context.Context) error {
	return s.write(ctx, "migrate", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			applied_ns INTEGER NOT NULL
		)`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var current int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if current > len(migrations) {
			return fmt.Errorf("database schema version %d is newer than this binary's %d", current, len(migrations))
		}
		for v := current + 1; v <= len(migrations); v++ {
			for _, stmt := range migrations[v-1] {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("migration %d: %w", v, err)
				}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_ns) VALUES (?, ?)`, v, s.now().UnixNano()); err != nil {
				return fmt.Errorf("migration %d: record: %w", v, err)
			}
		}
		return nil
	})
}
