package policy_test

// Benchmarks of the decision path: the engine's prepared query against the
// naive use of OPA (compile on every order), and the direct ast.Value input
// builder against a JSON round trip. Run with
//
//	go test -run '^$' -bench . -benchmem ./host/policy

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/util"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

// checkTutorialDecision fails unless d is the reference decision for #1203:
// on hold by the review rule and tagged Review Needed, without an error.
func checkTutorialDecision(d *sdk.Decision) error {
	switch {
	case d.Error != "":
		return fmt.Errorf("decision error: %s", d.Error)
	case d.Status != sdk.StatusOnHold:
		return fmt.Errorf("status = %s, want on_hold", d.Status)
	case !slices.ContainsFunc(d.Holds, func(h sdk.Hold) bool { return h.Rule == "hold_large_quantity" }):
		return fmt.Errorf("holds = %+v, want hold_large_quantity among them", d.Holds)
	case !slices.ContainsFunc(d.Tags, func(t sdk.TagDecision) bool { return t.Tag == "Review Needed" }):
		return fmt.Errorf("tags = %+v, want Review Needed among them", d.Tags)
	}
	return nil
}

// decisionSummary is what the naive result is compared on: the holds
// (package:rule) and the distinct tags, sorted.
type decisionSummary struct{ holds, tags string }

func summarize(d *sdk.Decision) decisionSummary {
	var holds, tags []string
	for _, h := range d.Holds {
		holds = append(holds, h.Package+":"+h.Rule)
	}
	for _, t := range d.Tags {
		tags = append(tags, t.Tag)
	}
	slices.Sort(holds)
	slices.Sort(tags)
	return decisionSummary{strings.Join(holds, ","), strings.Join(slices.Compact(tags), ",")}
}

// The naive baseline needs the query the revision prepares. The package
// keeps it unexported, so it is rebuilt here the same way (revision.go:
// findOutputs and outputQuery): one variable per (package, output rule)
// under data.ordergate.workflow, ordered by package then rule.

var benchOutputRules = []string{"tags", "holds", "cancel", "notes", "fields", "alerts"}

type benchOutput struct{ pkg, rule, vr string }

// benchLoadFilter is the package's loadFilter: tests, testdata and hidden
// files are not served.
func benchLoadFilter(_ string, info fs.FileInfo, _ int) bool {
	name := info.Name()
	if info.IsDir() {
		return name == "testdata" || strings.HasPrefix(name, ".")
	}
	ext := filepath.Ext(name)
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, "_test.rego") ||
		(ext != ".rego" && ext != ".json" && ext != ".yaml" && ext != ".yml")
}

type servingPolicies struct {
	sources map[string]string // file name -> Rego source
	docs    map[string]any    // data documents
	outputs []benchOutput
	query   string
}

func loadServing(tb testing.TB, dir string) *servingPolicies {
	tb.Helper()
	loaded, err := loader.NewFileLoader().WithRegoVersion(ast.RegoV1).Filtered([]string{dir}, benchLoadFilter)
	if err != nil {
		tb.Fatal(err)
	}
	sp := &servingPolicies{sources: map[string]string{}, docs: loaded.Documents}
	root := ast.MustParseRef("data." + policy.WorkflowRoot)
	seen := map[string]bool{}
	for name, f := range loaded.Modules {
		sp.sources[name] = string(f.Raw)
		path := f.Parsed.Package.Path
		if !path.HasPrefix(root) {
			continue
		}
		pkg := strings.TrimPrefix(strings.TrimPrefix(path.String(), root.String()), ".")
		for _, r := range f.Parsed.Rules {
			rule := r.Head.Name.String()
			if len(r.Head.Reference) > 0 {
				rule = r.Head.Reference[0].Value.(ast.Var).String()
			}
			if slices.Contains(benchOutputRules, rule) && !seen[pkg+"\x00"+rule] {
				seen[pkg+"\x00"+rule] = true
				sp.outputs = append(sp.outputs, benchOutput{pkg: pkg, rule: rule})
			}
		}
	}
	if len(sp.outputs) == 0 {
		tb.Fatalf("no workflow outputs found in %s", dir)
	}
	sort.Slice(sp.outputs, func(i, j int) bool {
		a, b := sp.outputs[i], sp.outputs[j]
		if a.pkg != b.pkg {
			return a.pkg < b.pkg
		}
		return slices.Index(benchOutputRules, a.rule) < slices.Index(benchOutputRules, b.rule)
	})
	var exprs []string
	for i := range sp.outputs {
		o := &sp.outputs[i]
		o.vr = fmt.Sprintf("out%d", i)
		ref := "data." + policy.WorkflowRoot
		if o.pkg != "" {
			ref += "." + o.pkg
		}
		exprs = append(exprs, fmt.Sprintf("%s = %s.%s", o.vr, ref, o.rule))
	}
	sp.query = strings.Join(exprs, "; ")
	return sp
}

// naiveInput is what a naive caller hands rego.Input: a plain Go map (here
// the engine's own input document, so both sides see the same input),
// which OPA converts to an ast.Value itself on every evaluation.
func naiveInput(tb testing.TB, in *policy.Input) any {
	x, err := ast.JSON(in.Value())
	if err != nil {
		tb.Fatal(err)
	}
	return x
}

// summarizeNaive reads the holds and tags out of a naive evaluation's
// bindings, as the engine's merge would (without its checks).
func summarizeNaive(rs rego.ResultSet, outs []benchOutput) (decisionSummary, error) {
	if len(rs) != 1 {
		return decisionSummary{}, fmt.Errorf("%d results, want 1", len(rs))
	}
	var holds, tags []string
	for _, o := range outs {
		v, ok := rs[0].Bindings[o.vr].([]any)
		if !ok {
			if o.rule == "fields" {
				continue
			}
			return decisionSummary{}, fmt.Errorf("%s.%s: binding %T, want a set", o.pkg, o.rule, rs[0].Bindings[o.vr])
		}
		for _, x := range v {
			switch o.rule {
			case "holds":
				m, _ := x.(map[string]any)
				holds = append(holds, fmt.Sprintf("%s:%v", o.pkg, m["rule"]))
			case "tags":
				tags = append(tags, fmt.Sprint(x))
			}
		}
	}
	slices.Sort(holds)
	slices.Sort(tags)
	return decisionSummary{strings.Join(holds, ","), strings.Join(slices.Compact(tags), ",")}, nil
}

// BenchmarkDecision measures one workflow decision for the tutorial order
// on the shipped policies:
//
//   - prepared: Engine.Evaluate, the revision's query prepared once;
//   - naive: rego.New(rego.Query, rego.Load(policies dir), rego.Input).Eval
//     per order, reading, parsing and compiling the policies every time;
//   - naive-modules: the same with the Rego sources already in memory
//     (rego.Module + rego.Store), so parse and compile but no file I/O;
//   - prepared-parallel: Engine.Evaluate from GOMAXPROCS goroutines;
//   - floor: the same packages and outputs with bodies that cost nothing;
//   - combined, combined-floor: the shipped rules rewritten as one package
//     (a contract change, not shipped), and the floor of that shape.
func BenchmarkDecision(b *testing.B) {
	// What serve runs with (--gc-percent's default).
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	ctx := context.Background()
	order := loadOrder(b, "order-1203.json")
	in := input(order, "b2c")
	e := mustEngine(b, shippedPolicies)
	sp := loadServing(b, shippedPolicies)

	// The naive path must reach the same decision before it is timed, and
	// every timed naive evaluation is checked against it.
	d := e.Evaluate(ctx, in)
	if err := checkTutorialDecision(d); err != nil {
		b.Fatal(err)
	}
	want := summarize(d)
	checkNaive := func(rs rego.ResultSet, err error) error {
		if err != nil {
			return err
		}
		got, err := summarizeNaive(rs, sp.outputs)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("naive decision %+v, prepared decision %+v", got, want)
		}
		return nil
	}
	if err := checkNaive(rego.New(rego.Query(sp.query), rego.Load([]string{shippedPolicies}, benchLoadFilter), rego.Input(naiveInput(b, in))).Eval(ctx)); err != nil {
		b.Fatal(err)
	}

	b.Run("prepared", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := checkTutorialDecision(e.Evaluate(ctx, in)); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The tutorial order as the tenth look-alike of a burst (one
	// address, one basket): it is held as a duplicate as well, naming the
	// look-alikes the facts list. What a duplicate hold adds to a decision.
	lookAlike := *in
	lookAlike.Context = lookAlikeContext(10, 40)
	if d := e.Evaluate(ctx, &lookAlike); !slices.ContainsFunc(d.Holds, func(h sdk.Hold) bool { return h.Reason == sdk.HoldDuplicateOrder }) {
		b.Fatalf("look-alike decision = %+v, want a duplicate_order hold", d)
	}
	b.Run("look-alike", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if d := e.Evaluate(ctx, &lookAlike); d.Error != "" || len(d.Holds) < 2 {
				b.Fatalf("look-alike decision = %+v", d)
			}
		}
	})
	// The floor: the same packages and output rules with bodies that
	// cost nothing, so each run shows how far the shipped policies are
	// from what OPA can do at all for this shape.
	floor := mustEngine(b, floorPolicies(b, e.Revision()))
	if d := floor.Evaluate(ctx, in); d.Error != "" || d.Status != sdk.StatusOpen {
		b.Fatalf("floor decision = %+v", d)
	}
	b.Run("floor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if d := floor.Evaluate(ctx, in); d.Error != "" {
				b.Fatal(d.Error)
			}
		}
	})
	// A contract change, measured and not shipped (combined_test.go): the
	// same rules in one package, beside the floor of that one package.
	combined := mustEngine(b, combinedPolicies(b, shippedPolicies))
	if err := checkTutorialDecision(combined.Evaluate(ctx, in)); err != nil {
		b.Fatalf("combined: %v", err)
	}
	b.Run("combined", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := checkTutorialDecision(combined.Evaluate(ctx, in)); err != nil {
				b.Fatal(err)
			}
		}
	})
	combinedFloor := mustEngine(b, floorPolicies(b, combined.Revision()))
	b.Run("combined-floor", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if d := combinedFloor.Evaluate(ctx, in); d.Error != "" {
				b.Fatal(d.Error)
			}
		}
	})
	b.Run("naive", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			err := checkNaive(rego.New(
				rego.Query(sp.query),
				rego.Load([]string{shippedPolicies}, benchLoadFilter),
				rego.Input(naiveInput(b, in)),
			).Eval(ctx))
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("naive-modules", func(b *testing.B) {
		opts := []func(*rego.Rego){rego.Query(sp.query)}
		for name, src := range sp.sources {
			opts = append(opts, rego.Module(name, src))
		}
		b.ReportAllocs()
		for b.Loop() {
			err := checkNaive(rego.New(append(opts,
				rego.Store(inmem.NewFromObject(sp.docs)),
				rego.Input(naiveInput(b, in)),
			)...).Eval(ctx))
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("prepared-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := checkTutorialDecision(e.Evaluate(ctx, in)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// lookAlikeContext is input.context for an order with count look-alikes,
// listed of which the facts name.
func lookAlikeContext(listed, count int) *host.OrderContext {
	c := &host.OrderContext{Duplicates: host.DuplicatesContext{Enabled: true, Window: "24h", Count: count}}
	for i := range listed {
		c.Duplicates.Orders = append(c.Duplicates.Orders, host.DuplicateCandidate{
			ID: fmt.Sprintf("01JD%022d", i), ChannelID: "shopify", ExternalID: fmt.Sprintf("ext-%d", i), Number: fmt.Sprintf("#%d", 1100+i),
			PlacedAt: fixedNow.Add(-time.Duration(listed-i) * time.Minute), Status: sdk.StatusOnHold,
		})
	}
	return c
}

// floorPolicies writes a policy directory with every (package, output)
// of rev and nothing else: each output rule's body is false, so the
// workflow decides nothing and costs what OPA's evaluation of that shape
// costs.
func floorPolicies(b *testing.B, rev *policy.Revision) string {
	b.Helper()
	bodies := map[string]string{
		"tags":   `tags contains "x" if false`,
		"notes":  `notes contains "x" if false`,
		"holds":  `holds contains {"reason": "custom_rule", "rule": "x", "message": "x"} if false`,
		"cancel": `cancel contains {"rule": "x", "message": "x"} if false`,
		"fields": `fields["note"] := "x" if false`,
		"alerts": `alerts contains {"to": "x", "message": "x"} if false`,
	}
	files := map[string]string{}
	for _, r := range rev.Rules {
		name := "floor_" + strings.ReplaceAll(r.Package, ".", "_") + ".rego"
		if files[name] == "" {
			files[name] = "package " + policy.WorkflowRoot + "." + r.Package + "\n"
		}
		if line := bodies[r.Output] + "\n"; !strings.Contains(files[name], line) {
			files[name] += line
		}
	}
	return writePolicies(b, files)
}

// BenchmarkInput measures building the Rego input document for the
// tutorial order: the package's direct builder (Input.Value) against a JSON
// round trip (json.Marshal of the input's Go values, then util.UnmarshalJSON
// and ast.InterfaceToValue, which is what OPA does with a Go value).
//
// The round trip marshals input.order from the *sdk.Order and input.channel
// and input.now from their Go values; any other key of the document (such
// as input.context) is taken from the direct builder once, outside the
// loop, as a plain map, and marshalled with the rest. So the round trip
// does not pay for computing those keys, only for encoding and decoding
// them: if anything, it is favoured.
func BenchmarkInput(b *testing.B) {
	in := input(loadOrder(b, "order-1203.json"), "b2c")
	direct := in.Value()
	extra := map[string]any{}
	err := direct.(ast.Object).Iter(func(k, v *ast.Term) error {
		key := string(k.Value.(ast.String))
		if key == "order" || key == "channel" || key == "now" {
			return nil
		}
		x, err := ast.JSON(v.Value)
		extra[key] = x
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	roundTrip := func() (ast.Value, error) {
		doc := make(map[string]any, 3+len(extra))
		for k, v := range extra {
			doc[k] = v
		}
		doc["order"], doc["channel"], doc["now"] = in.Order, in.Channel, in.Now.UTC().Format(time.RFC3339Nano)
		data, err := json.Marshal(doc)
		if err != nil {
			return nil, err
		}
		var x any
		if err := util.UnmarshalJSON(data, &x); err != nil {
			return nil, err
		}
		return ast.InterfaceToValue(x)
	}
	quantity := ast.Ref{ast.StringTerm("order"), ast.StringTerm("line_items"), ast.IntNumberTerm(0), ast.StringTerm("quantity")}
	keys := direct.(ast.Object).Len()
	check := func(v ast.Value) error {
		obj, ok := v.(ast.Object)
		if !ok || obj.Len() != keys {
			return fmt.Errorf("input %v is not an object of %d keys", v, keys)
		}
		q, err := v.Find(quantity)
		if err != nil {
			return err
		}
		if q.Compare(ast.Number("5")) != 0 {
			return fmt.Errorf("input.order.line_items[0].quantity = %v, want 5", q)
		}
		return nil
	}
	// Both carry the same document, except that the JSON form of the order
	// lacks the empty fields the direct builder fills in (sdk.Order uses
	// omitempty).
	rt, err := roundTrip()
	if err != nil {
		b.Fatal(err)
	}
	if err := check(rt); err != nil {
		b.Fatalf("round trip: %v", err)
	}
	for _, k := range []string{"channel", "now"} {
		if rt.(ast.Object).Get(ast.StringTerm(k)).Value.Compare(direct.(ast.Object).Get(ast.StringTerm(k)).Value) != 0 {
			b.Fatalf("input.%s differs between the direct builder and the round trip", k)
		}
	}

	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := check(in.Value()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json-roundtrip", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v, err := roundTrip()
			if err != nil {
				b.Fatal(err)
			}
			if err := check(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
