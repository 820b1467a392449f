package policy_test

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

var update = flag.Bool("update", false, "rewrite golden files")

// shippedPolicies is the real policy directory of the repository.
const shippedPolicies = "../../policies"

var fixedNow = time.Date(2026, 11, 28, 9, 31, 0, 0, time.UTC)

// writePolicies writes files (name -> content) into a fresh directory.
func writePolicies(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func loadOrder(t testing.TB, name string) *sdk.Order {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "orders", name))
	if err != nil {
		t.Fatal(err)
	}
	var o sdk.Order
	if err := json.Unmarshal(data, &o); err != nil {
		t.Fatal(err)
	}
	return &o
}

func input(o *sdk.Order, kind string) *policy.Input {
	return &policy.Input{Order: o, Channel: policy.ChannelInput{ID: "shopify", Kind: kind}, Now: fixedNow}
}

func mustEngine(t testing.TB, dir string) *policy.Engine {
	t.Helper()
	e := policy.NewEngine(dir, nil, time.Second)
	if _, err := e.Reload(context.Background()); err != nil {
		t.Fatalf("loading %s: %v", dir, err)
	}
	return e
}

// TestShippedPoliciesGolden runs every fixture order through the shipped
// policies and compares the decision with its golden file. An order with a
// file of the same name in testdata/contexts is evaluated with that
// input.context. Run with -update after an intended change of the policies.
func TestShippedPoliciesGolden(t *testing.T) {
	e := mustEngine(t, shippedPolicies)
	names, err := filepath.Glob(filepath.Join("testdata", "orders", "*.json"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no fixture orders: %v", err)
	}
	for _, path := range names {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			in := input(loadOrder(t, name), "b2c")
			if data, err := os.ReadFile(filepath.Join("testdata", "contexts", name)); err == nil {
				in.Context = new(host.OrderContext)
				if err := json.Unmarshal(data, in.Context); err != nil {
					t.Fatal(err)
				}
			}
			d := e.Evaluate(context.Background(), in)
			if d.Error != "" {
				t.Fatalf("decision error: %s", d.Error)
			}
			d.Revision = "(revision)" // the content hash changes with every policy edit
			got, _ := json.MarshalIndent(d, "", "  ")
			golden := filepath.Join("testdata", "golden", name)
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if strings.TrimSpace(string(got)) != strings.TrimSpace(string(want)) {
				t.Errorf("decision differs from %s:\n got: %s\nwant: %s", golden, got, want)
			}
		})
	}
}

// TestReferenceScenario pins the reference scenario to the shipped
// policies: #1203 with V789 x 5 is held for review and tagged.
func TestReferenceScenario(t *testing.T) {
	e := mustEngine(t, shippedPolicies)
	d := e.Evaluate(context.Background(), input(loadOrder(t, "order-1203.json"), "b2c"))
	if d.Status != sdk.StatusOnHold {
		t.Fatalf("status = %s, want on_hold (%+v)", d.Status, d)
	}
	if len(d.Holds) != 1 || d.Holds[0].Reason != sdk.HoldCustomRule || d.Holds[0].Package != "review" {
		t.Errorf("holds = %+v, want one custom_rule hold from package review", d.Holds)
	}
	if len(d.Tags) != 1 || d.Tags[0].Tag != "Review Needed" {
		t.Errorf("tags = %+v, want [Review Needed]", d.Tags)
	}
}

// TestTagsAreAUnion: two packages that tag the same order both show, and a
// tag given by both shows once.
func TestTagsAreAUnion(t *testing.T) {
	dir := writePolicies(t, map[string]string{
		"a.rego":   "package ordergate.workflow.a\ntags contains \"Alpha\" if input.order.currency == \"USD\"\ntags contains \"Shared\" if true\n",
		"b.rego":   "package ordergate.workflow.b\ntags contains \"Beta\" if count(input.order.line_items) > 0\ntags contains \"Shared\" if true\n",
		"c/d.rego": "package ordergate.workflow.c.d\ntags contains \"Gamma\" if input.channel.kind == \"b2c\"\n",
	})
	d := mustEngine(t, dir).Evaluate(context.Background(), input(loadOrder(t, "order-1203.json"), "b2c"))
	var got []string
	for _, tg := range d.Tags {
		got = append(got, tg.Package+":"+tg.Tag)
	}
	want := "a:Alpha,a:Shared,b:Beta,c.d:Gamma"
	if strings.Join(got, ",") != want {
		t.Errorf("tags = %v, want %s", got, want)
	}
	if d.Status != sdk.StatusOpen {
		t.Errorf("status = %s, want open", d.Status)
	}
}

func TestDecisionOutputs(t *testing.T) {
	dir := writePolicies(t, map[string]string{
		"all.rego": `package ordergate.workflow.all
holds contains {"rule": "r1", "message": "held"} if true
notes contains "second" if true
notes contains "first" if true
fields["shipping_method"] := "Express" if true
fields["custom_fields.reviewed"] := "yes" if true
alerts contains {"to": "sales", "message": "look", "rule": "r2"} if true
`,
		"stop.rego": `package ordergate.workflow.stop
cancel contains {"rule": "fraud", "message": "blocked country"} if input.order.shipping_address.country == "US"
`,
	})
	d := mustEngine(t, dir).Evaluate(context.Background(), input(loadOrder(t, "order-1203.json"), "b2c"))
	if d.Error != "" {
		t.Fatal(d.Error)
	}
	if d.Status != sdk.StatusCanceled {
		t.Errorf("a cancel must win over holds; status = %s", d.Status)
	}
	if len(d.Holds) != 1 || d.Holds[0].Reason != sdk.HoldCustomRule {
		t.Errorf("holds = %+v; a hold without reason is custom_rule", d.Holds)
	}
	if len(d.Notes) != 2 || d.Notes[0].Note != "first" || d.Notes[1].Note != "second" {
		t.Errorf("notes = %+v, want sorted [first second]", d.Notes)
	}
	if len(d.Fields) != 2 || len(d.Alerts) != 1 || d.Alerts[0].Severity != "info" {
		t.Errorf("fields = %+v alerts = %+v", d.Fields, d.Alerts)
	}
}

// TestPolicyErrorsHoldTheOrder: whatever goes wrong in evaluation, the
// decision is a policy_error hold carrying the reason.
func TestPolicyErrorsHoldTheOrder(t *testing.T) {
	tests := []struct {
		name, rego, wantErr string
	}{
		{"conflicting field edits", "package ordergate.workflow.x\nfields[\"note\"] := \"a\" if true\n---package ordergate.workflow.y\nfields[\"note\"] := \"b\" if true\n", "policy conflict"},
		{"field outside the allow-list", "package ordergate.workflow.x\nfields[\"currency\"] := \"EUR\" if true\n", "not an editable field"},
		{"unknown hold reason", "package ordergate.workflow.x\nholds contains {\"reason\": \"because\"} if true\n", "unknown hold reason"},
		{"hold with an unknown key", "package ordergate.workflow.x\nholds contains {\"why\": \"x\"} if true\n", "unknown key"},
		{"tag that is not a string", "package ordergate.workflow.x\ntags contains 7 if true\n", "must be strings"},
		{"alert of unknown severity", "package ordergate.workflow.x\nalerts contains {\"to\": \"a\", \"message\": \"m\", \"severity\": \"loud\"} if true\n", "unknown alert severity"},
		{"runtime conflict", "package ordergate.workflow.x\nv := 1 if true\nv := 2 if true\ntags contains sprintf(\"%d\", [v]) if true\n", "conflict"},
		{"deadline", "package ordergate.workflow.x\ntags contains \"slow\" if {\n\tsome i in numbers.range(1, 5000)\n\tsome j in numbers.range(1, 5000)\n\ti * j < 0\n}\n", "deadline"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{}
			for i, src := range strings.Split(tc.rego, "---") {
				files[string(rune('a'+i))+".rego"] = src
			}
			e := policy.NewEngine(writePolicies(t, files), nil, 50*time.Millisecond)
			if _, err := e.Reload(context.Background()); err != nil {
				t.Fatal(err)
			}
			d := e.Evaluate(context.Background(), input(loadOrder(t, "order-1203.json"), "b2c"))
			if !strings.Contains(d.Error, tc.wantErr) {
				t.Fatalf("error = %q, want it to contain %q", d.Error, tc.wantErr)
			}
			if d.Status != sdk.StatusOnHold || len(d.Holds) != 1 || d.Holds[0].Reason != sdk.HoldPolicyError {
				t.Errorf("decision = %+v, want a single policy_error hold", d)
			}
		})
	}
}

// TestReloadRefusesBadRevisions: a revision that does not compile or whose
// tests fail is refused with the file and line, and the previous one keeps
// serving.
func TestReloadRefusesBadRevisions(t *testing.T) {
	dir := writePolicies(t, map[string]string{
		"a.rego": "package ordergate.workflow.a\ntags contains \"Good\" if true\n",
	})
	e := mustEngine(t, dir)
	good := e.Revision().ID
	tests := []struct {
		name, file, content, wantErr string
	}{
		{"syntax error", "a.rego", "package ordergate.workflow.a\ntags contains \"Good\" if {\n", "a.rego:3"},
		{"compile error", "a.rego", "package ordergate.workflow.a\ntags contains x if true\n", "a.rego:2"},
		{"failing test", "a_test.rego", "package ordergate.workflow.a\ntest_never if false\n", "a_test.rego:2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			before, _ := os.ReadFile(path)
			defer func() {
				if before == nil {
					os.Remove(path)
				} else {
					os.WriteFile(path, before, 0o644)
				}
			}()
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := e.Reload(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Reload() error = %v, want one naming %s", err, tc.wantErr)
			}
			if e.Revision().ID != good {
				t.Errorf("revision in force changed to %s after a refused reload", e.Revision().ID)
			}
			if st := e.Status(); !strings.Contains(st.LastError, tc.wantErr) {
				t.Errorf("Status().LastError = %q", st.LastError)
			}
			d := e.Evaluate(context.Background(), input(loadOrder(t, "order-1203.json"), "b2c"))
			if len(d.Tags) != 1 || d.Revision != good {
				t.Errorf("the previous revision must keep serving; got %+v", d)
			}
		})
	}
	// A good change is taken, with a new revision id.
	os.WriteFile(filepath.Join(dir, "a.rego"), []byte("package ordergate.workflow.a\ntags contains \"Better\" if true\n"), 0o644)
	rev, err := e.Reload(context.Background())
	if err != nil || rev.ID == good {
		t.Fatalf("good reload: rev=%v err=%v", rev, err)
	}
	if e.Status().LastError != "" {
		t.Errorf("LastError not cleared: %q", e.Status().LastError)
	}
}

// TestWatchReloadsOnFileChange waits for the watcher to pick up an edit.
func TestWatchReloadsOnFileChange(t *testing.T) {
	dir := writePolicies(t, map[string]string{"a.rego": "package ordergate.workflow.a\ntags contains \"One\" if true\n"})
	e := mustEngine(t, dir)
	first := e.Revision().ID
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); e.Watch(ctx) }()
	defer wg.Wait()
	defer cancel()
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; e.Revision().ID == first; i++ {
		if time.Now().After(deadline) {
			t.Fatal("the watcher did not reload within 10s")
		}
		// Rewrite now and then, in case the watcher was still starting;
		// less often than its quiet period, so a reload can happen.
		if i%100 == 0 {
			os.WriteFile(filepath.Join(dir, "a.rego"), []byte("package ordergate.workflow.a\ntags contains \"Two\" if true\n"), 0o644)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNoRevision: before any revision loads, orders are held, not lost.
func TestNoRevision(t *testing.T) {
	e := policy.NewEngine(t.TempDir(), nil, 0)
	d := e.Evaluate(context.Background(), input(loadOrder(t, "order-1203.json"), "b2c"))
	if d.Status != sdk.StatusOnHold || d.Holds[0].Reason != sdk.HoldPolicyError {
		t.Errorf("decision = %+v", d)
	}
}

// TestConcurrentEvaluation shares one prepared query across goroutines
// (run with -race).
func TestConcurrentEvaluation(t *testing.T) {
	e := mustEngine(t, shippedPolicies)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				d := e.Evaluate(context.Background(), input(loadOrder(t, "order-1203.json"), "b2c"))
				if d.Status != sdk.StatusOnHold {
					t.Errorf("status = %s", d.Status)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestRefusedReloadIsReported: the hook hears of a refused reload with the
// revision that keeps serving.
func TestRefusedReloadIsReported(t *testing.T) {
	dir := writePolicies(t, map[string]string{"workflow/a.rego": "package ordergate.workflow.a\n\ntags contains \"A\"\n"})
	e := mustEngine(t, dir)
	var gotPrev string
	var gotErr error
	e.OnRefused(func(prev string, err error) { gotPrev, gotErr = prev, err })
	if err := os.WriteFile(filepath.Join(dir, "workflow", "b.rego"), []byte("package ordergate.workflow.b\n\ntags contains x if {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Reload(context.Background()); err == nil {
		t.Fatal("a broken revision loaded")
	}
	if gotErr == nil || gotPrev != e.Revision().ID {
		t.Errorf("hook got %q, %v", gotPrev, gotErr)
	}
}
