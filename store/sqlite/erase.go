package sqlite

import (
	"context"
	"database/sql"

	"github.com/frontdesk/frontdesk/store"
)

func (s *appointments) Delete(ctx context.Context, businessID, id string) error {
	return (*Store)(s).write(ctx, "delete appointment", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM appointments WHERE business_id = ? AND id = ?`, businessID, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return store.NotFound("appointment", id)
		}
		return nil
	})
}
