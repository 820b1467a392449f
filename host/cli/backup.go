package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/ordergate/ordergate/host/bolt"
)

// backupCommand downloads a consistent copy of a running host's database
// (GET /api/v1/backup), checks it and puts it at --out. The file appears
// only once it is whole and checked.
func backupCommand(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "backup --key KEY --out FILE [--url URL]", "Copies the database of a running host to FILE: a consistent copy taken while\nthe host serves, checked before it is put in place. Folders of FILE that do\nnot exist are created (mode 0700).")
	url := fs.String("url", "http://127.0.0.1:8080", "the host's base URL")
	key := fs.String("key", "", "an admin API key; or ORDERGATE_KEY")
	out := fs.String("out", "", "the file to write the backup to (required; missing folders are created)")
	if err := fs.parseWithEnv(args, 0); err != nil {
		return err
	}
	switch {
	case *key == "":
		return fmt.Errorf("--key (or ORDERGATE_KEY) is required")
	case *out == "":
		return fmt.Errorf("--out is required")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url+"/api/v1/backup", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+*key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("asking %s for a backup: %w", *url, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		var problem struct{ Detail string }
		if json.Unmarshal(body, &problem) == nil && problem.Detail != "" {
			return fmt.Errorf("asking %s for a backup: %s: %s", *url, res.Status, problem.Detail)
		}
		return fmt.Errorf("asking %s for a backup: %s: %s", *url, res.Status, body)
	}
	// Folders of --out that do not exist are made, once the host has
	// agreed to send a backup, for the owner alone like the file.
	if err := os.MkdirAll(filepath.Dir(*out), 0o700); err != nil {
		return fmt.Errorf("backing up to %s: %w", *out, err)
	}
	tmp := *out + ".partial"
	n, err := writeFileSynced(tmp, res.Body)
	if err == nil && res.ContentLength >= 0 && n != res.ContentLength {
		err = fmt.Errorf("the host sent %d of %d bytes", n, res.ContentLength)
	}
	if err == nil {
		err = bolt.Verify(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, *out)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("backing up to %s: %w", *out, err)
	}
	fmt.Fprintf(env.Stdout, "wrote %s (%d bytes), a consistent copy checked by bbolt\n", *out, n)
	return nil
}

// restoreCommand puts a backup in place as the database of a data
// directory whose host is stopped. The database it replaces is kept beside
// it, renamed.
func restoreCommand(_ context.Context, env Env, args []string) error {
	fs := newFlags(env, "restore --from FILE [--data DIR]", "Puts a backup in place as the database of a stopped host's data directory.\nThe backup is checked first; the database it replaces is kept beside it.")
	from := fs.String("from", "", "the backup file (required)")
	data := fs.String("data", "data", "the data directory of the stopped host")
	if err := fs.parseWithEnv(args, 0); err != nil {
		return err
	}
	if *from == "" {
		return fmt.Errorf("--from is required")
	}
	if err := bolt.Verify(*from); err != nil {
		return fmt.Errorf("refusing to restore: %w", err)
	}
	if err := os.MkdirAll(*data, 0o700); err != nil {
		return err
	}
	target := filepath.Join(*data, bolt.FileName)
	if _, err := os.Stat(target); err == nil {
		// A running host holds the file's lock.
		db, err := bbolt.Open(target, 0o600, &bbolt.Options{Timeout: time.Second})
		if errors.Is(err, berrors.ErrTimeout) {
			return fmt.Errorf("refusing to restore: a host is running on %s; stop it first", *data)
		}
		if err == nil {
			db.Close()
		}
	}
	// The copy is made and synced beside the database first; only then is
	// the database moved aside and the copy renamed into place, so a failed
	// copy leaves the database as it was.
	src, err := os.Open(*from)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp := target + ".restoring"
	if _, err := writeFileSynced(tmp, src); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("copying %s: %w", *from, err)
	}
	aside := ""
	if _, err := os.Stat(target); err == nil {
		aside = fmt.Sprintf("%s.before-restore-%s", target, time.Now().UTC().Format("20060102T150405.000000000Z"))
		if err := os.Rename(target, aside); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		if aside != "" {
			os.Rename(aside, target)
		}
		return fmt.Errorf("putting the copy in place (the database is unchanged): %w", err)
	}
	if dir, err := os.Open(*data); err == nil {
		dir.Sync()
		dir.Close()
	}
	fmt.Fprintf(env.Stdout, "restored %s to %s\n", *from, target)
	if aside != "" {
		fmt.Fprintf(env.Stdout, "the database it replaced is kept as %s\n", aside)
	}
	return nil
}

// writeFileSynced writes r to a new file at path and syncs it to disk.
func writeFileSynced(path string, r io.Reader) (int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}
