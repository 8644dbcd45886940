package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/secretbox"
)

// keyFileSuffix names the key file generated beside a SQLite database.
const keyFileSuffix = ".secret-key"

// secretKey returns the server key that seals secrets at rest, and where
// it came from, for the store named by dbURL: PHONEBOOK_SECRET_KEY, else
// the file PHONEBOOK_SECRET_KEY_FILE names, else, for SQLite, the file
// beside the database (<db>.secret-key), generated (mode 0600, 32 random
// bytes) on the first start and said so once in the log. PostgreSQL
// without a configured key has none (""): objects that need one are then
// refused (secret_key_required) rather than stored in clear.
func (c *cli) secretKey(dbURL string) (string, error) {
	key, _, err := c.secretKeySource(dbURL, true)
	return key, err
}

// secretKeySource is secretKey, also naming the file the key is in ("" if
// from the environment); it creates the SQLite key file only if create.
func (c *cli) secretKeySource(dbURL string, create bool) (key, file string, err error) {
	if k := c.getenv(envSecretKey); k != "" {
		return k, "", nil
	}
	if f := c.getenv(envSecretKeyFile); f != "" {
		k, err := readKeyFile(f)
		if err != nil {
			return "", "", fmt.Errorf("%s: %w", envSecretKeyFile, err)
		}
		return k, f, nil
	}
	kind, path, err := parseDBURL(dbURL)
	if err != nil || kind != storeSQLite {
		return "", "", err
	}
	file = path + keyFileSuffix
	k, err := readKeyFile(file)
	switch {
	case err == nil:
		return k, file, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", "", err
	case !create:
		return "", "", nil
	}
	k = newServerKey()
	if err := writeKeyFile(file, k, false); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process made it first: use theirs
			k, err := readKeyFile(file)
			return k, file, err
		}
		return "", "", err
	}
	c.log.Warn("generated "+envSecretKey+" into a file beside the database: back it up with the database, secrets sealed under it are lost without it",
		"file", file)
	return k, file, nil
}

// newServerKey is 32 random bytes, base64: 256 bits for HKDF.
func newServerKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawStdEncoding.EncodeToString(b)
}

// readKeyFile reads a server key from file (surrounding space trimmed).
func readKeyFile(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	k := strings.TrimSpace(string(b))
	if len(k) < secretbox.MinKeyLen {
		return "", fmt.Errorf("the key in %s is shorter than %d characters", file, secretbox.MinKeyLen)
	}
	return k, nil
}

// writeKeyFile writes key to file with mode 0600: created anew (it must
// not exist) or, with replace, through a temporary file renamed over it,
// so a crash leaves the old key or the new one, never half of one.
func writeKeyFile(file, key string, replace bool) error {
	if !replace {
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("create key file: %w", err)
		}
		if _, err := f.WriteString(key + "\n"); err != nil {
			f.Close()
			os.Remove(file)
			return fmt.Errorf("write key file: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return fmt.Errorf("write key file: %w", err)
		}
		return f.Close()
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), filepath.Base(file)+".new-*")
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if _, err := tmp.WriteString(key + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("replace key file: %w", err)
	}
	return nil
}

// secretsRotate re-seals every secret of the store under a new server key
// (PHONEBOOK_SECRET_KEY_NEW or --new-key-file), in one transaction, and,
// when the current key came from a key file, writes the new key into that
// file. Secrets stored in clear (before the server had a key) are sealed.
// Stop the servers first (or restart them all right after): a server
// still running with the old key cannot open what was re-sealed.
func (c *cli) secretsRotate(ctx context.Context, args []string) error {
	fs := c.newFlagSet("secrets rotate", "secrets rotate [--new-key-file FILE] [--db URL]")
	newFile := fs.String("new-key-file", "", "read the new key from `FILE` (else "+envSecretKeyNew+")")
	db := dbFlag(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf(fs, "secrets rotate takes no arguments, got %q", pos[0])
	}
	dbURL := c.orEnv(*db, envDB, defaultDB)
	newKey := c.getenv(envSecretKeyNew)
	if *newFile != "" {
		if newKey, err = readKeyFile(*newFile); err != nil {
			return fmt.Errorf("--new-key-file: %w", err)
		}
	}
	if newKey == "" {
		return usageErrorf(fs, "give the new key in %s or --new-key-file (for example: openssl rand -base64 32)", envSecretKeyNew)
	}
	to, err := secretbox.New(newKey)
	if err != nil {
		return fmt.Errorf("new key: %w", err)
	}
	oldKey, keyFile, err := c.secretKeySource(dbURL, false)
	if err != nil {
		return err
	}
	if oldKey == newKey {
		return errors.New("the new key is the current key: nothing to rotate")
	}
	var from phonebook.Sealer
	if oldKey != "" {
		box, err := secretbox.New(oldKey)
		if err != nil {
			return fmt.Errorf("current key: %w", err)
		}
		from = box
	}
	store, err := openStore(ctx, dbURL)
	if err != nil {
		return err
	}
	defer store.Close()
	rep, err := phonebook.NewService(store, nil).ResealSecrets(ctx, from, to)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Re-sealed %d secrets under the new key (%d were in clear).\n", rep.Resealed+rep.Sealed, rep.Sealed)
	kind, path, _ := parseDBURL(dbURL)
	switch {
	case keyFile != "":
		if err := writeKeyFile(keyFile, newKey, true); err != nil {
			return fmt.Errorf("the secrets are sealed under the new key, but %w: put the new key into %s by hand", err, keyFile)
		}
		fmt.Fprintf(c.stdout, "Wrote the new key to %s. Restart every server.\n", keyFile)
	case oldKey == "" && kind == storeSQLite:
		file := path + keyFileSuffix
		if err := writeKeyFile(file, newKey, false); err != nil {
			return fmt.Errorf("the secrets are sealed under the new key, but %w: set %s to it", err, envSecretKey)
		}
		fmt.Fprintf(c.stdout, "Wrote the new key to %s. Restart every server.\n", file)
	default:
		fmt.Fprintf(c.stdout, "Set %s to the new key on every server and restart them.\n", envSecretKey)
	}
	return nil
}
