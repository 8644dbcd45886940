//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package sqlite

// freeBytes cannot tell the free space here: readiness relies on the
// write probe alone.
func freeBytes(string) (uint64, bool) { return 0, false }
