package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/frontdesk/frontdesk/store"
	"github.com/frontdesk/frontdesk/store/sqlite"
)

// TestAuditAppendOnly checks that the audit table refuses changes even
// from outside the store, through triggers in the schema.
func TestAuditAppendOnly(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, nil)
	ctx := context.Background()
	if _, err := s.Audit().Append(ctx, store.AuditRecord{BusinessID: "acme", Actor: "k", Action: store.AuditErase, Target: "lead:x"}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `UPDATE audit SET reason = 'forged'`); err == nil {
		t.Error("UPDATE of the audit table succeeded")
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM audit`); err == nil {
		t.Error("DELETE from the audit table succeeded")
	}
	items, _, err := s.Audit().List(ctx, "acme", store.Page{})
	if err != nil || len(items) != 1 || items[0].Reason != "" {
		t.Errorf("after tampering attempts: %+v, %v", items, err)
	}
}
