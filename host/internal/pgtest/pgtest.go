// Package pgtest starts throwaway PostgreSQL clusters for tests: initdb
// into a temporary directory, the server on a free loopback port with
// fsync on and password authentication, removed when the test ends. No
// external service is assumed; a machine without PostgreSQL's server
// binaries fails the test with a message saying how to install them.
//
// When the tests run as root (CI containers), the cluster runs as the
// "postgres" user, as initdb refuses root.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// User and Password are the cluster's superuser. The password is long and
// odd on purpose: tests check that it reaches no log or answer.
const (
	User     = "ordergate"
	Password = "pg-Secret-7f3a9c"
)

// Server is one running cluster.
type Server struct {
	Dir  string // the data directory
	base string
	Port int
	bin  string
	cred *syscall.Credential
	cmd  *exec.Cmd
	exit chan error
	log  string
	dbs  atomic.Int64
}

// BinDir finds PostgreSQL's server binaries: $ORDERGATE_PG_BIN, the
// directory of pg_config --bindir, or the newest /usr/lib/postgresql/*/bin.
func BinDir() (string, error) {
	if dir := os.Getenv("ORDERGATE_PG_BIN"); dir != "" {
		return dir, nil
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	return "", errors.New("PostgreSQL's server binaries (initdb, postgres) were not found: install them (Debian: apt-get install postgresql) or set ORDERGATE_PG_BIN to their directory")
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// Start initializes a cluster and starts its server; both are removed when
// the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("stopping PostgreSQL: %v", err)
		}
	})
	return s
}

// New initializes a cluster and starts its server, for a TestMain that
// shares one cluster between the tests of a package; Close removes it.
func New() (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("the tests run as root and initdb refuses root, so the cluster runs as user postgres, which does not exist (%v): install PostgreSQL (Debian: apt-get install postgresql) or run the tests as another user", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	base, err := os.MkdirTemp("", "ordergate-pg-")
	if err != nil {
		return nil, err
	}
	s.base = base
	s.Dir = filepath.Join(base, "data")
	s.log = filepath.Join(base, "server.log")
	fail := func(err error) (*Server, error) {
		os.RemoveAll(base)
		return nil, err
	}
	pwfile := filepath.Join(base, "pw")
	if err := os.WriteFile(pwfile, []byte(Password+"\n"), 0o600); err != nil {
		return fail(err)
	}
	if s.cred != nil {
		for _, p := range []string{base, pwfile} {
			if err := os.Chown(p, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
				return fail(err)
			}
		}
	}
	initdb := s.command("initdb", "-D", s.Dir, "-U", User, "--pwfile", pwfile, "--auth", "scram-sha-256",
		"--encoding", "UTF8", "--locale", "C", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %v\n%s", err, out))
	}
	if s.Port, err = freePort(); err != nil {
		return fail(err)
	}
	if err := s.Start(); err != nil {
		return fail(err)
	}
	return s, nil
}

// Close stops the server and removes the cluster.
func (s *Server) Close() error {
	err := s.Stop()
	os.RemoveAll(s.base)
	return err
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	return cmd
}

// Start starts the server (again, after Stop) and waits until it accepts
// connections.
func (s *Server) Start() error {
	if s.cmd != nil {
		return errors.New("the server is running")
	}
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o666)
	if err != nil {
		return err
	}
	defer logf.Close()
	os.Chmod(s.log, 0o666)
	args := []string{"-D", s.Dir, "-p", strconv.Itoa(s.Port), "-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=", "-c", "fsync=on", "-c", "max_connections=200", "-c", "shared_buffers=128MB"}
	// ORDERGATE_PGTEST_OPTIONS adds server options, e.g. to profile a
	// benchmark's statements: -c shared_preload_libraries=pg_stat_statements
	args = append(args, strings.Fields(os.Getenv("ORDERGATE_PGTEST_OPTIONS"))...)
	cmd := s.command("postgres", args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting postgres: %w", err)
	}
	s.cmd, s.exit = cmd, make(chan error, 1)
	go func() { s.exit <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, s.DSN("postgres"))
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case exitErr := <-s.exit:
			s.cmd = nil
			return fmt.Errorf("postgres exited at start (%v): %s", exitErr, s.Log())
		case <-ctx.Done():
			return fmt.Errorf("postgres did not accept connections within 60s: %v\n%s", err, s.Log())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop shuts the server down (fast shutdown: sessions are ended, the
// data is kept) and waits for it to exit.
func (s *Server) Stop() error {
	if s.cmd == nil {
		return nil
	}
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exit:
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		<-s.exit
	}
	s.cmd = nil
	return nil
}

// Log returns the server's log so far.
func (s *Server) Log() string {
	data, _ := os.ReadFile(s.log)
	return string(data)
}

// DSN is the connection string of a database of the cluster.
func (s *Server) DSN(db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(User, Password), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// NewDatabase creates an empty database and returns its DSN; it is
// dropped when the test ends.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d", s.dbs.Add(1))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, s.DSN("postgres"))
		if err != nil {
			return // the server is gone; its directory goes with it
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return s.DSN(name)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// CPU is the processor time the server has used so far: the postmaster,
// its live processes, and those that have exited (counted by the
// postmaster as their parent). Benchmarks take the difference.
func (s *Server) CPU() time.Duration {
	if s.cmd == nil {
		return 0
	}
	pm := s.cmd.Process.Pid
	total := procCPU(pm, true)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == pm {
			continue
		}
		if ppid, ok := procParent(pid); ok && ppid == pm {
			total += procCPU(pid, true)
		}
	}
	return total
}

// procStat returns the fields of /proc/<pid>/stat after the command.
func procStat(pid int) []string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(data[i+1:]))
}

func procParent(pid int) (int, bool) {
	f := procStat(pid)
	if len(f) < 2 {
		return 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return ppid, err == nil
}

// procCPU is a process's user and system time, with its waited-for
// children's when children is true. /proc counts in clock ticks, 100 a
// second on Linux.
func procCPU(pid int, children bool) time.Duration {
	f := procStat(pid)
	if len(f) < 15 {
		return 0
	}
	fields := []int{11, 12} // utime, stime (fields 14, 15 of stat)
	if children {
		fields = append(fields, 13, 14) // cutime, cstime
	}
	var ticks int64
	for _, i := range fields {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / 100)
}

// WALPosition is the server's current write-ahead log position; WALSince
// the bytes written since an earlier one.
func (s *Server) WALPosition(ctx context.Context) (string, error) {
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var lsn string
	err = conn.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&lsn)
	return lsn, err
}

// WALSince returns the bytes of write-ahead log written since from.
func (s *Server) WALSince(ctx context.Context, from string) (int64, error) {
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n float64
	err = conn.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)`, from).Scan(&n)
	return int64(n), err
}
