package policy_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

// TestRulesOfShippedPolicies: the output rules a revision names without
// evaluating them: hold rule fields, tags read from data, and "" for the
// note made with sprintf.
func TestRulesOfShippedPolicies(t *testing.T) {
	rev, err := policy.LoadRevision(context.Background(), shippedPolicies)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rev.Rules {
		got = append(got, r.Package+" "+r.Output+" "+r.Rule)
	}
	want := []string{
		"first_order holds first_order_review",
		"holds.disabled_source holds disabled_source",
		"holds.duplicate_order holds duplicate_order",
		"holds.insufficient_quantity holds insufficient_quantity",
		"holds.not_managed_item holds not_managed_item",
		"holds.unmapped_shipping_policy holds unmapped_shipping_policy",
		"international holds hold_international",
		"international tags International",
		"priority tags High Priority",
		"review holds hold_large_quantity",
		"review tags Review Needed",
		"sales alerts large_order",
		"sales notes ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("rules =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestEffects names each effect of a decision by its rule; a note is
// named by its text only when the revision writes it as a constant.
func TestEffects(t *testing.T) {
	d := &sdk.Decision{
		Tags:   []sdk.TagDecision{{Tag: "VIP", Package: "vip"}},
		Holds:  []sdk.Hold{{Reason: "custom_rule", Rule: "big", Package: "review"}, {Reason: "duplicate_order", Package: "holds.duplicate_order"}},
		Notes:  []sdk.NoteDecision{{Note: "Call the customer", Package: "vip"}, {Note: "Order #12 is large", Package: "sales"}},
		Fields: []sdk.FieldEdit{{Path: "shipping_method", Value: "Express", Package: "vip"}},
		Alerts: []sdk.Alert{{To: "sales", Message: "m", Package: "sales"}},
	}
	known := []policy.OutputRule{{Package: "vip", Output: "notes", Rule: "Call the customer"}}
	var got []string
	for _, r := range policy.Effects(d, known) {
		got = append(got, r.String()+" ("+r.Output+")")
	}
	want := []string{
		"ordergate.workflow.vip.VIP (tags)",
		"ordergate.workflow.review.big (holds)",
		"ordergate.workflow.holds.duplicate_order.duplicate_order (holds)",
		"ordergate.workflow.vip.Call the customer (notes)",
		"ordergate.workflow.sales.notes (notes)",
		"ordergate.workflow.vip.shipping_method (fields)",
		"ordergate.workflow.sales.sales (alerts)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("effects =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if e := policy.Effects(&sdk.Decision{Error: "x", Holds: []sdk.Hold{{Reason: "policy_error"}}}, nil); e != nil {
		t.Errorf("a policy_error decision has effects %v", e)
	}
}

// TestRevisionIDsAndDigests: the same files give the same id wherever
// they are; a changed byte gives another; Files has each file's digest
// by relative path.
func TestRevisionIDsAndDigests(t *testing.T) {
	ctx := context.Background()
	files := map[string]string{"workflow/a.rego": "package ordergate.workflow.a\n\ntags contains \"A\" if true\n", "data.yaml": "x: 1\n"}
	one, err := policy.LoadRevision(ctx, writePolicies(t, files))
	if err != nil {
		t.Fatal(err)
	}
	two, err := policy.LoadRevision(ctx, writePolicies(t, files))
	if err != nil {
		t.Fatal(err)
	}
	if one.ID != two.ID || len(one.Files) != 2 || one.Files["workflow/a.rego"] == "" || one.Files["data.yaml"] == "" {
		t.Errorf("revisions of the same files: %s %v and %s %v", one.ID, one.Files, two.ID, two.Files)
	}
	files["data.yaml"] = "x: 2\n"
	three, err := policy.LoadRevision(ctx, writePolicies(t, files))
	if err != nil {
		t.Fatal(err)
	}
	if three.ID == one.ID || three.Files["data.yaml"] == one.Files["data.yaml"] || three.Files["workflow/a.rego"] != one.Files["workflow/a.rego"] {
		t.Errorf("a changed data file: %s %v, was %s %v", three.ID, three.Files, one.ID, one.Files)
	}
}

// TestDeniedBuiltins: a workflow may not reach the network, the host's
// environment or a clock or randomness of its own.
func TestDeniedBuiltins(t *testing.T) {
	for _, call := range []string{`http.send({"method": "get", "url": "http://127.0.0.1:9"}).body`, `opa.runtime().env.HOME`, `sprintf("%d", [time.now_ns()])`, `uuid.rfc4122("x")`} {
		t.Run(call, func(t *testing.T) {
			dir := writePolicies(t, map[string]string{"a.rego": "package ordergate.workflow.a\n\nnotes contains " + call + " if true\n"})
			_, err := policy.LoadRevision(context.Background(), dir)
			name := call[:strings.IndexByte(call, '(')]
			if strings.HasPrefix(call, "sprintf") {
				name = "time.now_ns"
			}
			if err == nil || !strings.Contains(err.Error(), "undefined function "+name) {
				t.Errorf("a revision calling %s: %v, want a refusal naming it", name, err)
			}
			// Nor may its tests.
			test := writePolicies(t, map[string]string{"a_test.rego": "package ordergate.workflow.a_test\n\ntest_x if " + call + "\n"})
			if _, err := policy.LoadRevision(context.Background(), test); err == nil || !strings.Contains(err.Error(), "undefined function "+name) {
				t.Errorf("a test calling %s: %v, want a refusal naming it", name, err)
			}
		})
	}
}

// TestCheckBundle: the paths a bundle sent to the API may hold.
func TestCheckBundle(t *testing.T) {
	for _, tc := range []struct {
		path, field string
	}{
		{"../up.rego", "files.../up.rego"},
		{"/abs.rego", "files./abs.rego"},
		{"a/../../b.rego", "files.a/../../b.rego"},
		{"a//b.rego", "files.a//b.rego"},
		{".hidden.rego", "files..hidden.rego"},
		{"x/.git/config.yaml", "files.x/.git/config.yaml"},
		{`a\b.rego`, `files.a\b.rego`},
		{"run.sh", "files.run.sh"},
		{"nul\x00.rego", "files.nul\x00.rego"},
		{strings.Repeat("x", 201) + ".rego", "files." + strings.Repeat("x", 201) + ".rego"},
		{"ok.rego/inner.rego", "files.ok.rego"},
	} {
		err := policy.CheckBundle(map[string]string{"ok.rego": "package x", tc.path: ""}, "files")
		var e *host.Error
		if !errors.As(err, &e) || len(e.Fields) != 1 || e.Fields[0].Field != tc.field {
			t.Errorf("bundle with %q: %v, want one field error on %s", tc.path, err, tc.field)
		}
	}
	if err := policy.CheckBundle(map[string]string{"data.yaml": "x: 1"}, "files"); err == nil {
		t.Error("a bundle without Rego is accepted")
	}
	if err := policy.CheckBundle(map[string]string{"workflow/a.rego": "", "data.json": "{}", "x/y.yml": ""}, "files"); err != nil {
		t.Errorf("a good bundle: %v", err)
	}
}
