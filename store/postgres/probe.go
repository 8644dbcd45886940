package postgres

import (
	"context"

	"github.com/phonebook/phonebook"
)

// ProbeWrite reports whether the database still takes writes (for
// readiness): a one-row update is committed. A database out of disk, a
// read-only replica after a failover or one that is down fail it. Errors
// are unavailable.
func (s *Store) ProbeWrite(ctx context.Context) error {
	err := s.Write(ctx, func(ptx phonebook.Tx) error {
		t := ptx.(*tx)
		_, err := t.tx.Exec(ctx, `INSERT INTO heartbeat (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = excluded.at`, s.now())
		return err
	})
	if err != nil {
		return &phonebook.Error{Code: phonebook.ECodeUnavailable, Message: "store cannot write", Err: err}
	}
	return nil
}
