package main_test

import (
	"context"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/internal/e2e"
)

// TestUsersCommands: `ordergate users` creates an account with the
// password from a file or from standard input, lists, sets a password
// and deletes, on a stopped host's data directory and on PostgreSQL; the
// password signs in to the console of the host started on that store and
// a bad command line changes nothing.
func TestUsersCommands(t *testing.T) { onEachStore(t, testUsersCommands) }

func testUsersCommands(t *testing.T, serveArgs []string) {
	store := serveArgs[:2] // --data DIR or --store DSN, without serve's flags
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	writeFile(t, pwFile, "correct horse battery staple\nthis second line is not the password\n")
	out := run(t, 0, append([]string{"users", "create", "--username", "ada", "--role", "operator", "--password-file", pwFile}, store...)...)
	if out != "created operator user ada\n" {
		t.Fatalf("users create: %q", out)
	}
	// From standard input.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"users", "create", "--username", "root", "--role", "admin"}, store...)...)
	cmd.Stdin = strings.NewReader("another long password\n")
	if b, err := cmd.CombinedOutput(); err != nil || string(b) != "created admin user root\n" {
		t.Fatalf("users create from stdin: %v %s", err, b)
	}
	for args, want := range map[string]string{
		"--username Ada --role operator":   "username",
		"--username bob --role reseller":   "role",
		"--username ada --role operator":   "exists",
		"--username bob --role admin -x y": "flag provided but not defined",
	} {
		cmd := exec.CommandContext(ctx, bin, append(append([]string{"users", "create"}, strings.Fields(args)...), append([]string{"--password-file", pwFile}, store...)...)...)
		if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), want) {
			t.Errorf("users create %s: %v %s, want an error naming %q", args, err, b, want)
		}
	}
	short := filepath.Join(dir, "short")
	writeFile(t, short, "short\n")
	if out := run(t, 1, append([]string{"users", "create", "--username", "bob", "--role", "admin", "--password-file", short}, store...)...); !strings.Contains(out, "password") {
		t.Errorf("a short password: %s", out)
	}
	list := run(t, 0, append([]string{"users", "list"}, store...)...)
	if lines := strings.Split(strings.TrimSpace(list), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[1], "ada ") || !strings.HasPrefix(lines[2], "root ") {
		t.Fatalf("users list:\n%s", list)
	}
	if strings.Contains(list, "argon2") {
		t.Fatal("users list shows a hash")
	}
	newPw := filepath.Join(dir, "new")
	writeFile(t, newPw, "a brand new password\n")
	run(t, 0, append([]string{"users", "set-password", "--username", "root", "--password-file", newPw}, store...)...)
	run(t, 0, append([]string{"users", "delete", "--username", "root"}, store...)...)
	if out := run(t, 1, append([]string{"users", "delete", "--username", "root"}, store...)...); !strings.Contains(out, "not found") {
		t.Errorf("deleting a deleted user: %s", out)
	}

	h := e2e.Start(t, bin, nil, append(serveArgs, "--policies", policies)...)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		user, password string
		want           int
	}{{"ada", "correct horse battery staple", http.StatusSeeOther}, {"ada", "this second line is not the password", http.StatusUnauthorized}, {"root", "a brand new password", http.StatusUnauthorized}} {
		resp, err := client.PostForm(h.URL+"/login", url.Values{"username": {tc.user}, "password": {tc.password}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("sign-in of %s: %d, want %d", tc.user, resp.StatusCode, tc.want)
		}
	}
}
