package policy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
)

// WorkflowRoot is the package every workflow package lives under.
const WorkflowRoot = "ordergate.workflow"

// outputRules are the rule names a workflow package may define, in the
// order they are merged.
var outputRules = []string{"tags", "holds", "cancel", "notes", "fields", "alerts"}

// Revision is one compiled, tested and prepared version of the policy
// directory. It is immutable and safe for concurrent use; the engine swaps
// revisions atomically on reload.
type Revision struct {
	// ID is the content hash of every loaded file (path and bytes).
	ID string `json:"revision"`
	// Modules are the Rego files that serve decisions (tests excluded).
	Modules []string `json:"modules"`
	// Packages are the workflow packages that define at least one output.
	Packages []string `json:"packages"`
	// Tests is how many Rego tests passed when the revision was loaded.
	Tests int `json:"tests"`
	// Files are the SHA-256 digests (hex) of the files loaded, by path
	// relative to the policy directory, slash-separated.
	Files map[string]string `json:"files"`
	// Rules are the output rules the revision defines, as far as they can
	// be named without evaluating (see OutputRules).
	Rules []OutputRule `json:"-"`

	query   rego.PreparedEvalQuery
	outputs []output
	// txn is a read transaction on the revision's data, opened once: the
	// data never changes, and opening one per evaluation costs locks and
	// allocations.
	txn storage.Transaction
	// watchdog enforces the evaluations' deadlines.
	watchdog *watchdog
	// sources are the input terms of the line sources evaluated.
	sources sourceTerms
}

// output is one (package, rule) pair the prepared query binds to a variable.
type output struct {
	pkg  string // e.g. "review" for data.ordergate.workflow.review
	rule string
	vr   ast.Var
}

// loadFilter keeps fixtures and hidden files out of the policy set.
func loadFilter(_ string, info fs.FileInfo, _ int) bool {
	name := info.Name()
	if info.IsDir() {
		return name == "testdata" || strings.HasPrefix(name, ".")
	}
	ext := filepath.Ext(name)
	return strings.HasPrefix(name, ".") || (ext != ".rego" && ext != ".json" && ext != ".yaml" && ext != ".yml")
}

func loadDir(dir string) (*loader.Result, error) {
	loaded, err := loader.NewFileLoader().WithRegoVersion(ast.RegoV1).Filtered([]string{dir}, loadFilter)
	if err != nil {
		return nil, fmt.Errorf("loading policies from %s: %w", dir, err)
	}
	return loaded, nil
}

// LoadRevision loads every Rego and data file under dir, compiles the
// policies, runs their Rego tests and prepares the workflow query. Any
// failure is returned with the file and line at fault; nothing is
// returned half-built.
func LoadRevision(ctx context.Context, dir string) (*Revision, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("loading policies: %w", err)
	}
	loaded, err := loadDir(dir)
	if err != nil {
		return nil, err
	}
	files, err := fileDigests(dir)
	if err != nil {
		return nil, err
	}
	rev := &Revision{ID: contentHash(files), Files: files, watchdog: &watchdog{}}

	serving := make(map[string]*ast.Module)
	all := make(map[string]*ast.Module)
	for _, f := range loaded.Modules {
		all[f.Name] = f.Parsed
		if !strings.HasSuffix(f.Name, "_test.rego") {
			serving[f.Name] = f.Parsed
			rev.Modules = append(rev.Modules, f.Name)
		}
	}
	sort.Strings(rev.Modules)

	compiler := ast.NewCompiler().WithEnablePrintStatements(false).WithCapabilities(workflowCapabilities())
	compiler.Compile(serving)
	if compiler.Failed() {
		return nil, fmt.Errorf("compiling policies: %w", compiler.Errors)
	}
	store := inmem.NewFromObject(loaded.Documents)

	if rev.Tests, err = runTests(ctx, all, store); err != nil {
		return nil, err
	}

	rev.outputs = findOutputs(compiler)
	rev.Rules = outputRuleNames(ctx, compiler, store)
	for _, o := range rev.outputs {
		if !slices.Contains(rev.Packages, o.pkg) {
			rev.Packages = append(rev.Packages, o.pkg)
		}
	}
	rev.query, err = rego.New(
		rego.ParsedQuery(outputQuery(rev.outputs)),
		rego.Compiler(compiler),
		rego.Store(store),
		// Keep results as ast values: merging walks them directly.
		rego.GenerateJSON(func(t *ast.Term, _ *rego.EvalContext) (any, error) { return t.Value, nil }),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("preparing the workflow query: %w", err)
	}
	if rev.txn, err = store.NewTransaction(ctx); err != nil {
		return nil, fmt.Errorf("reading the policy data: %w", err)
	}
	return rev, nil
}

// DeniedBuiltins are the OPA built-ins a workflow may not call. A
// decision depends on the order, input.now and the facts the host gives
// it, and nothing else: so a backtest or a canary replays it faithfully,
// no evaluation waits on the network, and a policy bundle sent to the
// backtest API reaches neither the network nor the host's environment
// (opa.runtime() would show its variables, secrets among them).
var DeniedBuiltins = []string{"http.send", "net.lookup_ip_addr", "opa.runtime", "time.now_ns", "rand.intn", "uuid.rfc4122"}

// workflowCapabilities are OPA's capabilities without DeniedBuiltins.
func workflowCapabilities() *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion()
	caps.Builtins = slices.DeleteFunc(slices.Clone(caps.Builtins), func(b *ast.Builtin) bool { return slices.Contains(DeniedBuiltins, b.Name) })
	return caps
}

// TestResult is the outcome of one Rego test.
type TestResult struct {
	Name     string `json:"name"` // package.rule
	Location string `json:"location"`
	Pass     bool   `json:"pass"`
	Skip     bool   `json:"skip,omitempty"`
	Error    string `json:"error,omitempty"`
}

func (t TestResult) String() string {
	switch {
	case t.Skip:
		return fmt.Sprintf("%s: %s: SKIPPED", t.Location, t.Name)
	case t.Error != "":
		return fmt.Sprintf("%s: %s: ERROR: %s", t.Location, t.Name, t.Error)
	case !t.Pass:
		return fmt.Sprintf("%s: %s: FAIL", t.Location, t.Name)
	}
	return fmt.Sprintf("%s: %s: PASS", t.Location, t.Name)
}

// RunTests loads dir and runs its Rego tests, as `opa test dir` would.
func RunTests(ctx context.Context, dir string) ([]TestResult, error) {
	loaded, err := loadDir(dir)
	if err != nil {
		return nil, err
	}
	all := make(map[string]*ast.Module)
	for _, f := range loaded.Modules {
		all[f.Name] = f.Parsed
	}
	return testModules(ctx, all, inmem.NewFromObject(loaded.Documents))
}

func testModules(ctx context.Context, modules map[string]*ast.Module, store storage.Store) ([]TestResult, error) {
	// The tests run under the same capabilities as the workflow: a test
	// may not reach the network either (a bundle sent to the backtest API
	// runs its tests in the host).
	compiler := ast.NewCompiler().WithCapabilities(workflowCapabilities()).WithEnablePrintStatements(false)
	ch, err := tester.NewRunner().SetCompiler(compiler).SetStore(store).SetModules(modules).RunTests(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("compiling policies with their tests: %w", err)
	}
	var out []TestResult
	for r := range ch {
		t := TestResult{Name: r.Package + "." + r.Name, Location: r.Location.String(), Pass: r.Pass() && !r.Skip, Skip: r.Skip}
		if r.Error != nil {
			t.Error = r.Error.Error()
		}
		out = append(out, t)
	}
	return out, nil
}

// runTests runs the Rego tests and fails with every failing test named by
// file and line.
func runTests(ctx context.Context, modules map[string]*ast.Module, store storage.Store) (int, error) {
	results, err := testModules(ctx, modules, store)
	if err != nil {
		return 0, err
	}
	var failed []string
	passed := 0
	for _, t := range results {
		switch {
		case t.Pass:
			passed++
		case !t.Skip:
			failed = append(failed, t.String())
		}
	}
	if len(failed) > 0 {
		return passed, fmt.Errorf("policy tests failed (%d of %d):\n  %s", len(failed), len(failed)+passed, strings.Join(failed, "\n  "))
	}
	return passed, nil
}

// findOutputs lists, in a stable order, every output rule defined by a
// package under data.ordergate.workflow.
func findOutputs(c *ast.Compiler) []output {
	root := ast.MustParseRef("data." + WorkflowRoot)
	seen := map[string]bool{}
	var outs []output
	for _, m := range c.Modules {
		path := m.Package.Path
		if !path.HasPrefix(root) {
			continue
		}
		pkg := strings.TrimPrefix(strings.TrimPrefix(path.String(), root.String()), ".")
		for _, r := range m.Rules {
			name := r.Head.Name.String()
			if len(r.Head.Reference) > 0 {
				name = r.Head.Reference[0].Value.(ast.Var).String()
			}
			if !slices.Contains(outputRules, name) || seen[pkg+"\x00"+name] {
				continue
			}
			seen[pkg+"\x00"+name] = true
			outs = append(outs, output{pkg: pkg, rule: name})
		}
	}
	sort.Slice(outs, func(i, j int) bool {
		if outs[i].pkg != outs[j].pkg {
			return outs[i].pkg < outs[j].pkg
		}
		return slices.Index(outputRules, outs[i].rule) < slices.Index(outputRules, outs[j].rule)
	})
	for i := range outs {
		outs[i].vr = ast.Var(fmt.Sprintf("out%d", i))
	}
	return outs
}

// outputQuery binds each output rule to its own variable in one query, so
// one evaluation reads every package's outputs and nothing else (helper and
// test rules are never evaluated).
func outputQuery(outs []output) ast.Body {
	if len(outs) == 0 {
		return ast.NewBody(ast.NewExpr(ast.BooleanTerm(true)))
	}
	body := make(ast.Body, 0, len(outs))
	for _, o := range outs {
		ref := ast.MustParseRef("data." + WorkflowRoot)
		if o.pkg != "" {
			ref = ast.MustParseRef("data." + WorkflowRoot + "." + o.pkg)
		}
		ref = ref.Append(ast.StringTerm(o.rule))
		body = append(body, ast.Equality.Expr(ast.VarTerm(string(o.vr)), ast.NewTerm(ref)))
	}
	return body
}

// fileDigests hashes every file the loader keeps under dir, by path
// relative to dir.
func fileDigests(dir string) (map[string]string, error) {
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == dir {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if loadFilter(path, info, 0) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		files[filepath.ToSlash(rel)] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hashing the policy files under %s: %w", dir, err)
	}
	return files, nil
}

// contentHash is a revision's id: a hash of every file's relative path
// and digest, so the same files give the same id wherever they are
// checked out.
func contentHash(files map[string]string) string {
	h := sha256.New()
	for _, name := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(h, "%s\x00%s\x00", name, files[name])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
