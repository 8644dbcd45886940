package sqlite

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/phonebook/phonebook"
)

// maxGroup bounds how many writes share one commit.
const maxGroup = 256

// writeReq is one Write waiting for the committer.
type writeReq struct {
	ctx  context.Context
	fn   func(phonebook.Tx) error
	done chan error
}

// committer runs every write of the store on the one writer connection.
// Writes that arrive while a commit is on its way to disk are grouped into
// the next transaction, each inside a savepoint of its own: one fsync then
// makes many writes durable (group commit), and a write that fails rolls
// back alone. Each caller is answered only after the commit that holds its
// write has returned, so a 2xx still means "on disk".
func (s *Store) committer() {
	defer close(s.stopped)
	for {
		var first *writeReq
		select {
		case first = <-s.writes:
		case <-s.stop:
			return
		}
		batch := []*writeReq{first}
	fill:
		for len(batch) < maxGroup {
			select {
			case r := <-s.writes:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.commitGroup(batch)
	}
}

func (s *Store) commitGroup(batch []*writeReq) {
	results := make([]error, len(batch))
	sqlTx, err := s.writer.BeginTx(context.Background(), nil)
	if err != nil {
		err = storeErr("begin", err)
		for _, r := range batch {
			r.done <- err
		}
		return
	}
	t := &tx{tx: sqlTx, now: s.now, cache: s.wcache}
	ok := 0
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = storeErr("write", err)
			continue
		}
		if len(batch) == 1 {
			// Alone in its transaction, a write needs no savepoint: a
			// failure rolls the transaction back. A savepoint would make
			// SQLite copy every page it changes to a sub-journal first,
			// which was 12 % of a seed's CPU.
			results[i] = runSafely(r.fn, t)
		} else {
			results[i] = t.Savepoint(r.ctx, func() error { return runSafely(r.fn, t) })
		}
		if results[i] == nil {
			ok++
		}
	}
	if ok == 0 {
		_ = sqlTx.Rollback()
	} else if err := sqlTx.Commit(); err != nil {
		err = storeErr("commit", err)
		for i := range results {
			if results[i] == nil {
				results[i] = err
			}
		}
	}
	for i, r := range batch {
		r.done <- results[i]
	}
}

// runSafely turns a panic in fn into an error, so one bad write cannot take
// the writes grouped with it down.
func runSafely(fn func(phonebook.Tx) error, t *tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &phonebook.Error{Code: phonebook.ECodeInternal, Message: "internal error",
				Err: fmt.Errorf("panic in write: %v\n%s", v, debug.Stack())}
		}
	}()
	return fn(t)
}
