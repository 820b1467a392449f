package main_test

// TestDocs runs the shell samples of the repository's markdown documents
// against a real host and compares what each prints with the output the
// document shows. It finds the documents itself: every *.md file of the
// repository (outside hidden folders, bin, node_modules and testdata)
// that has a ```sh block. Each document is a subtest with a host of its
// own, started on a fresh data directory with the shipped policies and
// the connectors TestMain built.
//
// The conventions a document follows (README.md, "Checking the docs",
// says the same for writers):
//
//   - A ```sh (or ```bash) block is a sample, and it is run. The ```json,
//     ```text or plain ``` block right after it (nothing but blank lines
//     between) is its expected output: what it prints on stdout and
//     stderr together. A sample with no output block must print nothing.
//   - HTML comments on the lines just before a sample are directives:
//     <!-- not run: why --> skips it (make run itself, a real Shopify
//     shop, editing files by hand); <!-- until the output matches -->
//     runs it again until its output matches, for at most 30 seconds
//     (imports run in the background: the document tells the reader to
//     wait, and the test polls instead of sleeping); <!-- in the
//     repository root --> and <!-- in the scratch directory --> say
//     where it runs (the text must say so too); <!-- with the host
//     stopped --> stops the host for the sample and starts it again on
//     the same data directory afterwards. Any other comment there is an
//     error, so a misspelt directive is not silently ignored.
//   - The samples of a document run one after the other in one shell
//     session, as a reader's would: variables, exported or not,
//     functions and the working directory carry from one sample to the
//     next. A document starts in an empty scratch directory.
//   - The test sets OG (the host's URL) and ADMIN_KEY (the key the host
//     printed on its first start) and drops the lines of a sample that
//     assign them (`export OG=http://127.0.0.1:8080`), which a reader
//     types with their own values.
//   - A sample that assigns ORDERGATE_STORE a postgres:// DSN gets the
//     DSN of a new database of the tests' PostgreSQL cluster instead, so
//     a document can start hosts on PostgreSQL. Processes a sample leaves
//     running in the background are killed when the document ends.
//   - The repository root is a copy the test makes: a directory of
//     symbolic links to the repository's files, with bin/ordergate and
//     bin/plugins the binaries TestMain built, data/ the host's data
//     directory and policies/ a copy of the policies, which the host
//     serves, so samples that write ./data or backups/ or change a rule
//     touch nothing of the real checkout.
//
// Before comparing, both outputs are normalized, so that what differs
// from run to run does not count: the scratch directory's path becomes
// /home/you/scratch and the repository root's /path/to/ordergate; the
// host's URL http://127.0.0.1:8080; ULIDs, API keys (ogk_...), key ids
// (key_ + 16 hex), alert ids (alrt_, ops_, test_ + 24 hex), SHA-256
// digests, policy revisions (16 hex), RFC 3339 times and timestamps in
// file names, and durations (1.5s, 12ms; "duration_ms" values) become
// placeholders. When both outputs parse as a sequence of JSON values,
// they are compared as JSON (key order and spacing do not count);
// otherwise as text, line by line, ignoring trailing spaces. In the
// expected output, "..." matches any text within a line (a JSON string
// "..." any string), and a line of only "..." any number of lines.
//
// The samples need bash, curl and jq; the test fails when one is missing.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/internal/e2e"
)

// repoRoot is the repository's root, seen from this package.
const repoRoot = "../../.."

// Limits of one sample.
const (
	sampleTimeout = time.Minute      // one run of a sample
	untilTimeout  = 30 * time.Second // how long an "until" sample is retried
	untilInterval = 200 * time.Millisecond
)

// docSample is one shell sample of a document.
type docSample struct {
	doc, code, expected string
	line                int // of the opening fence
	hasExpected         bool
	notRun              string // the reason, for a sample that is not run
	until, hostStopped  bool
	dir                 string // "", "repo" or "scratch"
}

func TestDocs(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the documentation samples need %s, which is not installed (.ci/run installs it with apt-get): %v", tool, err)
		}
	}
	docs := findDocs(t)
	if len(docs) == 0 {
		t.Fatal("no markdown document with shell samples found")
	}
	for _, doc := range docs {
		samples, err := parseDoc(doc)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.ToSlash(doc), func(t *testing.T) {
			t.Parallel()
			runDoc(t, samples)
		})
	}
}

// findDocs returns the repository's markdown files that have a shell
// sample, relative to the repository root.
func findDocs(t *testing.T) []string {
	var docs []string
	err := filepath.WalkDir(repoRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != repoRoot && (strings.HasPrefix(name, ".") || name == "bin" || name == "node_modules" || name == "testdata" || name == "data") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".md") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if regexp.MustCompile("(?m)^\\s*```(sh|bash)\\s*$").Match(data) {
			rel, _ := filepath.Rel(repoRoot, path)
			docs = append(docs, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

var (
	fenceRE     = regexp.MustCompile("^(\\s*)(```+|~~~+)\\s*([A-Za-z0-9_+-]*)")
	directiveRE = regexp.MustCompile(`^\s*<!--\s*(.*?)\s*-->\s*$`)
)

// parseDoc reads a document's samples with their directives and
// expected outputs.
func parseDoc(doc string) ([]*docSample, error) {
	data, err := os.ReadFile(filepath.Join(repoRoot, doc))
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(data), "\n")
	var (
		samples    []*docSample
		directives []string
		last       *docSample // the sample whose output block may come next
	)
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.TrimSpace(line) == "" {
			continue
		}
		if m := directiveRE.FindStringSubmatch(line); m != nil {
			directives = append(directives, m[1])
			continue
		}
		m := fenceRE.FindStringSubmatch(line)
		if m == nil {
			directives, last = nil, nil
			continue
		}
		// A fenced block: read it to its closing fence.
		indent, fence, info := m[1], m[2], m[3]
		start := i + 1
		var body []string
		for i++; i < len(lines); i++ {
			if strings.HasPrefix(strings.TrimSpace(lines[i]), fence) && strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(lines[i]), fence[:1])) == "" {
				break
			}
			body = append(body, strings.TrimPrefix(lines[i], indent))
		}
		text := strings.Join(body, "\n")
		switch {
		case info == "sh" || info == "bash":
			s := &docSample{doc: doc, code: text, line: start}
			for _, d := range directives {
				switch {
				case strings.HasPrefix(d, "not run:") && strings.TrimSpace(strings.TrimPrefix(d, "not run:")) != "":
					s.notRun = strings.TrimSpace(strings.TrimPrefix(d, "not run:"))
				case d == "until the output matches":
					s.until = true
				case d == "in the repository root":
					s.dir = "repo"
				case d == "in the scratch directory":
					s.dir = "scratch"
				case d == "with the host stopped":
					s.hostStopped = true
				default:
					return nil, fmt.Errorf("%s:%d: unknown directive <!-- %s --> before a sample", doc, start, d)
				}
			}
			samples = append(samples, s)
			last = s
		case last != nil && (info == "" || info == "json" || info == "text"):
			last.expected, last.hasExpected = text, true
			last = nil
		default:
			last = nil
		}
		directives = nil
	}
	return samples, nil
}

// docEnv is the shell session of one document and the host it talks to.
type docEnv struct {
	t                *testing.T
	host             *e2e.Host
	key              string
	root, scratch    string // the repository root's copy, the scratch directory
	state            string // where the session is kept between samples
	data             string
	realRoot, tmpDir string
	dsn              string // the PostgreSQL database of the document's samples, once one asks
}

func runDoc(t *testing.T, samples []*docSample) {
	runnable := 0
	for _, s := range samples {
		if s.notRun == "" {
			runnable++
		}
	}
	if runnable == 0 {
		t.Logf("0 samples run, %d not run", len(samples))
		return
	}
	e := &docEnv{t: t, scratch: t.TempDir(), root: t.TempDir(), state: t.TempDir()}
	// Resolve symbolic links (macOS /var, /tmp), so that paths printed
	// by the samples match the ones normalized away.
	for _, p := range []*string{&e.scratch, &e.root, &e.state} {
		if r, err := filepath.EvalSymlinks(*p); err == nil {
			*p = r
		}
	}
	real, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	e.realRoot, _ = filepath.EvalSymlinks(real)
	e.tmpDir = os.TempDir()
	e.makeRoot()
	e.data = filepath.Join(e.root, "data")
	e.start()
	e.key = e.host.AdminKey
	if e.key == "" {
		t.Fatal("the host printed no admin key")
	}
	if err := os.WriteFile(filepath.Join(e.state, "cwd"), []byte(e.scratch), 0o600); err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, s := range samples {
		if s.notRun != "" {
			continue
		}
		ran++
		began := time.Now()
		e.run(s)
		if d := time.Since(began); d > 2*time.Second {
			t.Logf("%s:%d: took %s", s.doc, s.line, d.Round(100*time.Millisecond))
		}
	}
	t.Logf("%d samples run, %d not run", ran, len(samples)-ran)
}

// makeRoot makes the repository root's copy: a link to each top-level
// entry of the checkout but bin, data and backups; bin holds links to
// the binaries TestMain built.
func (e *docEnv) makeRoot() {
	entries, err := os.ReadDir(e.realRoot)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, entry := range entries {
		switch entry.Name() {
		case "bin", "data", "backups", ".git":
			continue
		case "policies":
			// A copy the document may edit: the host serves it (and
			// reloads it when it changes), as a reader's does.
			if err := os.CopyFS(filepath.Join(e.root, "policies"), os.DirFS(filepath.Join(e.realRoot, "policies"))); err != nil {
				e.t.Fatal(err)
			}
			continue
		}
		if err := os.Symlink(filepath.Join(e.realRoot, entry.Name()), filepath.Join(e.root, entry.Name())); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(e.root, "bin"), 0o755); err != nil {
		e.t.Fatal(err)
	}
	for name, target := range map[string]string{"ordergate": bin, "plugins": pluginDir} {
		abs, err := filepath.Abs(target)
		if err != nil {
			e.t.Fatal(err)
		}
		if err := os.Symlink(abs, filepath.Join(e.root, "bin", name)); err != nil {
			e.t.Fatal(err)
		}
	}
}

// start starts the host on the document's data directory.
func (e *docEnv) start() {
	e.host = e2e.Start(e.t, bin, nil, "--data", e.data, "--policies", filepath.Join(e.root, "policies"), "--plugins", pluginDir)
}

// run runs one sample and reports a mismatch.
func (e *docEnv) run(s *docSample) {
	t := e.t
	if s.hostStopped {
		if code, err := e.host.Stop(30 * time.Second); err != nil || code != 0 {
			t.Fatalf("%s:%d: stopping the host: exit code %d, %v", s.doc, s.line, code, err)
		}
		defer e.start()
	}
	if s.dir != "" {
		dir := e.scratch
		if s.dir == "repo" {
			dir = e.root
		}
		if err := os.WriteFile(filepath.Join(e.state, "cwd"), []byte(dir), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	want := e.normalize(s.expected)
	deadline := time.Now().Add(untilTimeout)
	for {
		out, saved := e.exec(s)
		got := e.normalize(out)
		ok := matches(want, got)
		if ok || !s.until || time.Now().After(deadline) {
			saved()
			if !ok {
				what := "prints"
				if s.until {
					what = fmt.Sprintf("still prints, after %s,", untilTimeout)
				}
				t.Errorf("%s:%d: the sample\n%s\n%s (normalized)\n%s\nwhere the document shows (normalized)\n%s", s.doc, s.line,
					indent(s.code), what, indent(got), indent(want))
			}
			return
		}
		time.Sleep(untilInterval)
	}
}

// storeVar is a line assigning ORDERGATE_STORE a PostgreSQL DSN.
var storeVar = regexp.MustCompile(`^\s*(export\s+)?ORDERGATE_STORE=['"]?postgres(ql)?://`)

// harnessVar is a line assigning a variable the test sets itself.
var harnessVar = regexp.MustCompile(`^\s*(export\s+)?(OG|ADMIN_KEY)=`)

// The wrapper a sample runs in: it restores the session, runs the
// sample, and saves the session to a new file, which becomes the
// session once the sample's run is the one kept.
const wrapper = `__base=" $(compgen -v | tr '\n' ' ') "
[ -f "$__state/session" ] && . "$__state/session"
cd "$(cat "$__state/cwd")" || exit 1
. "$__state/sample.sh"
{
	for __v in $(compgen -v); do
		case "$__base" in *" $__v "*) continue ;; esac
		case "$__v" in __*|BASH*|FUNCNAME|PIPESTATUS|_) continue ;; esac
		declare -p "$__v" 2>/dev/null
	done
	for __f in $(compgen -A function); do
		case "$__f" in __*) continue ;; esac
		declare -f "$__f"
	done
} > "$__state/session.new"
pwd > "$__state/cwd.new"
`

// exec runs a sample once and returns its output, and a function that
// keeps the session the run left.
func (e *docEnv) exec(s *docSample) (string, func()) {
	t := e.t
	var code []string
	for _, line := range strings.Split(s.code, "\n") {
		if m := storeVar.FindStringSubmatch(line); m != nil {
			if e.dsn == "" {
				e.dsn = postgresServer(t).NewDatabase(t)
			}
			line = m[1] + "ORDERGATE_STORE='" + e.dsn + "'"
		}
		if !harnessVar.MatchString(line) {
			code = append(code, line)
		}
	}
	if err := os.WriteFile(filepath.Join(e.state, "sample.sh"), []byte(strings.Join(code, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), sampleTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-c", wrapper)
	// Its own process group, which the processes it starts in the
	// background keep: killed when the document ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + e.scratch, "LANG=C.UTF-8", "TZ=UTC", "TMPDIR=" + e.tmpDir,
		"__state=" + e.state, "OG=" + e.host.URL, "ADMIN_KEY=" + e.key,
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &out, nil
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Start()
	if err == nil {
		pgid := cmd.Process.Pid
		t.Cleanup(func() { syscall.Kill(-pgid, syscall.SIGKILL) })
		err = cmd.Wait()
	}
	if err != nil && ctx.Err() != nil {
		t.Errorf("%s:%d: the sample did not end within %s", s.doc, s.line, sampleTimeout)
	}
	return out.String(), func() {
		for _, name := range []string{"session", "cwd"} {
			if err := os.Rename(filepath.Join(e.state, name+".new"), filepath.Join(e.state, name)); err != nil {
				t.Errorf("%s:%d: the sample's session was not saved: %v", s.doc, s.line, err)
			}
		}
	}
}

// Run-dependent parts of outputs, most specific first, and what they
// become.
var normalizers = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\b[0-9a-f]{64}\b`), "<sha256>"},
	{regexp.MustCompile(`\bogk_[A-Za-z0-9_-]{20,}`), "ogk_<secret>"},
	{regexp.MustCompile(`\bkey_[0-9a-f]{16}\b`), "key_<id>"},
	{regexp.MustCompile(`\b(alrt|ops|test)_[0-9a-f]{16,24}\b`), "${1}_<id>"},
	{regexp.MustCompile(`\b[0-9A-HJKMNP-TV-Z]{26}\b`), "<ulid>"},
	{regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})`), "<time>"},
	{regexp.MustCompile(`\b\d{8}T\d{6}(\.\d+)?Z\b`), "<time>"},
	{regexp.MustCompile(`\b[0-9a-f]{16}\b`), "<revision>"},
	{regexp.MustCompile(`("duration_ms"\s*:\s*)\d+`), `$1"<duration>"`},
	{regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|us|ms)\b|\b\d+\.\d+(s|m|h)\b`), "<duration>"},
}

// normalize replaces what differs from run to run (see TestDocs).
func (e *docEnv) normalize(s string) string {
	for _, p := range []struct{ path, with string }{
		{filepath.Join(e.state, "sample.sh"), "bash"},
		{e.scratch, "/home/you/scratch"}, {e.root, "/path/to/ordergate"}, {e.realRoot, "/path/to/ordergate"},
		{e.host.URL, "http://127.0.0.1:8080"},
	} {
		s = strings.ReplaceAll(s, p.path, p.with)
	}
	for _, n := range normalizers {
		s = n.re.ReplaceAllString(s, n.with)
	}
	var lines []string
	for _, line := range strings.Split(s, "\n") {
		lines = append(lines, strings.TrimRight(line, " \t\r"))
	}
	return strings.Trim(strings.Join(lines, "\n"), "\n")
}

// matches compares normalized outputs: as JSON when both are a sequence
// of JSON values, as text otherwise; "..." in want is an elision.
func matches(want, got string) bool {
	if w, ok := canonicalJSON(want); ok {
		if g, ok := canonicalJSON(got); ok {
			want, got = w, g
		}
	}
	if !strings.Contains(want, "...") {
		return want == got
	}
	// Each line of want must match a line of got; a line "..." matches
	// any number of lines, and "..." within a line any text.
	var re strings.Builder
	re.WriteString(`\A`)
	for _, line := range strings.Split(want, "\n") {
		if strings.TrimSpace(line) == "..." {
			re.WriteString(`(?:[^\n]*\n)*?`)
			continue
		}
		for j, part := range strings.Split(line, "...") {
			if j > 0 {
				re.WriteString(`[^\n]*?`)
			}
			re.WriteString(regexp.QuoteMeta(part))
		}
		re.WriteString(`\n`)
	}
	re.WriteString(`\z`)
	got += "\n"
	return regexp.MustCompile(re.String()).MatchString(got)
}

// canonicalJSON re-encodes a sequence of JSON values, one per line, with
// sorted keys; ok is false when s is not such a sequence.
func canonicalJSON(s string) (string, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var out bytes.Buffer
	n := 0
	for {
		var v any
		err := dec.Decode(&v)
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", false
		}
		enc := json.NewEncoder(&out)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return "", false
		}
		n++
	}
	return strings.TrimSuffix(out.String(), "\n"), n > 0
}

func indent(s string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		b.WriteString("    | " + sc.Text() + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}
