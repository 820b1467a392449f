package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/host/internal/e2e"
)

// TestBackupCreatesFolders backs up into folders that do not exist yet:
// backup creates them, for the owner only (0700), and writes a backup
// that restores. A backup the host refuses creates no folder.
func TestBackupCreatesFolders(t *testing.T) {
	h := e2e.Start(t, bin, nil, "--data", t.TempDir(), "--policies", policies)
	for _, tc := range []struct {
		name string
		key  string
		code int
	}{
		{"admin key", h.AdminKey, 0},
		{"wrong key", "ogk_wrong", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			file := filepath.Join(root, "backups", "2026", "ordergate.db")
			code, stdout, stderr := runCLI(t, root, "backup", "--url", h.URL, "--key", tc.key, "--out", file)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			if tc.code != 0 {
				if _, err := os.Stat(filepath.Join(root, "backups")); !os.IsNotExist(err) {
					t.Errorf("a refused backup created its folder (%v)", err)
				}
				return
			}
			for _, dir := range []string{filepath.Join(root, "backups"), filepath.Dir(file)} {
				info, err := os.Stat(dir)
				if err != nil {
					t.Fatal(err)
				}
				if perm := info.Mode().Perm(); !info.IsDir() || perm != 0o700 {
					t.Errorf("%s: mode %v, want a folder with 0700", dir, info.Mode())
				}
			}
			if !strings.Contains(stdout, "wrote "+file) {
				t.Errorf("backup printed %q", stdout)
			}
			restored := t.TempDir()
			if code, out, errOut := runCLI(t, root, "restore", "--from", file, "--data", restored); code != 0 {
				t.Errorf("restoring the backup: exit %d\n%s%s", code, out, errOut)
			}
		})
	}
}
