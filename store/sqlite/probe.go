package sqlite

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/phonebook/phonebook"
)

// MinFreeBytes is the room the file system holding the database must have
// for the store to call itself able to write: below it, the next
// checkpoint or a batch's WAL frames may not fit.
const MinFreeBytes = 1 << 20

// ProbeWrite reports whether the store can still write (for readiness): the
// file system holding the database has MinFreeBytes free, and a one-row
// write goes through the committer and is committed. Errors are
// unavailable.
func (s *Store) ProbeWrite(ctx context.Context) error {
	if free, ok := freeBytes(filepath.Dir(s.path)); ok && free < MinFreeBytes {
		return &phonebook.Error{Code: phonebook.ECodeUnavailable, Message: "store cannot write",
			Err: fmt.Errorf("sqlite: %d bytes free beside %s, want %d", free, s.path, MinFreeBytes)}
	}
	err := s.Write(ctx, func(ptx phonebook.Tx) error {
		t := ptx.(*tx)
		_, err := t.tx.ExecContext(ctx, `INSERT INTO heartbeat (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at`, s.now().UnixNano())
		return err
	})
	if err != nil {
		return &phonebook.Error{Code: phonebook.ECodeUnavailable, Message: "store cannot write", Err: err}
	}
	return nil
}
