package postgres

import (
	"github.com/pressly/goose/v3/lock"
)

// newLocker returns goose's PostgreSQL advisory-lock session locker, so
// concurrent starts of several nodes migrate once.
func newLocker() lock.SessionLocker {
	l, err := lock.NewPostgresSessionLocker()
	if err != nil {
		// Only invalid options make it fail, and none are given.
		panic(err)
	}
	return l
}
