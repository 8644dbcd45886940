package httpapi_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/httpapi"
	"github.com/phonebook/phonebook/store/sqlite"
)

// TestReadyzWhileTheDiskIsFull puts the database on a real 4 MiB tmpfs,
// fills the file system, and expects /readyz to answer 503 (after its
// cached probe expires, not before), then 200 again once there is room.
func TestReadyzWhileTheDiskIsFull(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs for a real full disk (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "pb.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	const every = 300 * time.Millisecond
	srv := httpapi.NewServer(slog.New(slog.DiscardHandler), phonebook.NewService(st, nil), httpapi.Options{ProbeInterval: every})
	readyz := func() int {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		return rec.Code
	}
	if got := readyz(); got != http.StatusOK {
		t.Fatalf("/readyz with room: got %d, want 200", got)
	}
	// Fill the file system to the last byte.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			break
		}
	}
	f.Close()
	// The probe's result is kept for its interval: a burst of /readyz
	// costs one write, so the answer right after is the cached one.
	if got := readyz(); got != http.StatusOK {
		t.Errorf("/readyz within the probe interval: got %d, want the cached 200", got)
	}
	time.Sleep(every + 50*time.Millisecond)
	if got := readyz(); got != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with a full disk: got %d, want 503", got)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for readyz() != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("/readyz still 503 5 s after the disk had room again")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
