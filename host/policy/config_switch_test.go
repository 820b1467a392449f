package policy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"
	"go.yaml.in/yaml/v3"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

// The outputs of the shipped policies for the fixture orders, as outputs
// renders them.
const (
	reviewTag            = "review: tag Review Needed"
	reviewHold1203       = "review: hold custom_rule/hold_large_quantity: line V789 has quantity 5, over the review limit of 4"
	reviewHoldLarge      = "review: hold custom_rule/hold_large_quantity: line V789 has quantity 25, over the review limit of 4"
	priorityTag          = "priority: tag High Priority"
	internationalHoldCA  = "international: hold custom_rule/hold_international: order ships to CA, outside the home countries (US)"
	salesNoteLarge       = "sales: note Sales team: large order #1203, 1000.00 USD (at least 1000.00)"
	salesAlertLarge      = "sales: alert to sales (info) large_order: Large order #1203, 1000.00 USD on channel shopify"
	firstOrderHoldLarge  = "first_order: hold custom_rule/first_order_review: first order of this customer, 1000.00 USD, over 500.00: held 2h for review"
	disabledSourceHold   = "holds.disabled_source: hold disabled_source/disabled_source: only disabled sources of routing group main could fill: V790 wanted 4, available 0; dallas has 8 but is disabled in the routing group"
	duplicateOrderHold   = "holds.duplicate_order: hold duplicate_order/duplicate_order: looks like 01M8GVQ9QAQJYJ7GSN747JYDPG (9001 from acme): same shipping address and items, placed within 24h"
	insufficientV789Hold = "holds.insufficient_quantity: hold insufficient_quantity/insufficient_quantity: not enough stock in routing group main: V789 wanted 3, available 2"
	notManagedItemHold   = "holds.not_managed_item: hold not_managed_item/not_managed_item: X1 is not in the catalog"
	unmappedShippingHold = "holds.unmapped_shipping_policy: hold unmapped_shipping_policy/unmapped_shipping_policy: shipping method \"Overnight\" has no shipping policy mapping for channel shopify"
	insufficientBothHold = "holds.insufficient_quantity: hold insufficient_quantity/insufficient_quantity: not enough stock in routing group main: V789 wanted 3, available 2; V790 wanted 4, available 0"
)

// configChange is one case of TestDataOnlyConfigChangeLoads.
type configChange struct {
	name    string
	setting string // the key under ordergate.config in data.yaml
	value   any
	order   string // fixture in testdata/orders, with its testdata/contexts file if any
	status  sdk.Status
	want    []string // outputs of the decision after the change, in any order
}

// TestDataOnlyConfigChangeLoads changes one setting of data.yaml in a copy
// of the shipped policies, nothing else, and requires the host to load the
// revision (its Rego tests carry their own configuration, so they still
// pass) and the decision to follow the new setting. Every setting of the
// shipped data.yaml has a case: switching each rule group off, and changing
// each threshold, tag and destination.
func TestDataOnlyConfigChangeLoads(t *testing.T) {
	tests := []configChange{
		{
			name: "review off: #1203 is open and not tagged", setting: "review.enabled", value: false,
			order: "order-1203.json", status: sdk.StatusOpen, want: nil,
		},
		{
			name: "review limit 10: #1203 with 5 on a line is open", setting: "review.max_line_quantity", value: 10,
			order: "order-1203.json", status: sdk.StatusOpen, want: nil,
		},
		{
			name: "review tag renamed: #1203 carries the new tag", setting: "review.tag", value: "Check quantity",
			order: "order-1203.json", status: sdk.StatusOnHold,
			want: []string{reviewHold1203, "review: tag Check quantity"},
		},
		{
			name: "priority off: 26 items are not tagged", setting: "priority.enabled", value: false,
			order: "large-priority.json", status: sdk.StatusOnHold,
			want: []string{reviewHoldLarge, reviewTag, salesNoteLarge, salesAlertLarge, firstOrderHoldLarge},
		},
		{
			name: "priority from 5 items: #1203 is tagged", setting: "priority.min_total_quantity", value: 5,
			order: "order-1203.json", status: sdk.StatusOnHold,
			want: []string{reviewHold1203, reviewTag, priorityTag},
		},
		{
			name: "priority tag renamed: 26 items carry the new tag", setting: "priority.tag", value: "Rush",
			order: "large-priority.json", status: sdk.StatusOnHold,
			want: []string{reviewHoldLarge, reviewTag, "priority: tag Rush", salesNoteLarge, salesAlertLarge, firstOrderHoldLarge},
		},
		{
			name: "international off: an order to CA is open", setting: "international.enabled", value: false,
			order: "international.json", status: sdk.StatusOpen, want: nil,
		},
		{
			name: "CA a home country: an order to CA is open", setting: "international.home_countries", value: []string{"US", "CA"},
			order: "international.json", status: sdk.StatusOpen, want: nil,
		},
		{
			name: "international tag renamed: an order to CA carries the new tag", setting: "international.tag", value: "Abroad",
			order: "international.json", status: sdk.StatusOnHold,
			want: []string{internationalHoldCA, "international: tag Abroad"},
		},
		{
			name: "sales off: a 1000.00 order gets no note or alert", setting: "sales.enabled", value: false,
			order: "large-priority.json", status: sdk.StatusOnHold,
			want: []string{reviewHoldLarge, reviewTag, priorityTag, firstOrderHoldLarge},
		},
		{
			name: "first_order off: a first-time customer's 1000.00 is not held for it", setting: "first_order.enabled", value: false,
			order: "large-priority.json", status: sdk.StatusOnHold,
			want: []string{reviewHoldLarge, reviewTag, priorityTag, salesNoteLarge, salesAlertLarge},
		},
		{
			name: "first_order over 2000.00: 1000.00 is not large", setting: "first_order.total_over", value: "2000.00",
			order: "large-priority.json", status: sdk.StatusOnHold,
			want: []string{reviewHoldLarge, reviewTag, priorityTag, salesNoteLarge, salesAlertLarge},
		},
		{
			name: "first_order held 30m", setting: "first_order.hold_for", value: "30m",
			order: "large-priority.json", status: sdk.StatusOnHold,
			want: []string{reviewHoldLarge, reviewTag, priorityTag, salesNoteLarge, salesAlertLarge,
				"first_order: hold custom_rule/first_order_review: first order of this customer, 1000.00 USD, over 500.00: held 30m for review"},
		},
		{
			name: "sales from 100.00: #1203 at 113.20 is large", setting: "sales.large_order_total", value: "100.00",
			order: "order-1203.json", status: sdk.StatusOnHold,
			want: []string{
				reviewHold1203, reviewTag,
				"sales: note Sales team: large order #1203, 113.20 USD (at least 100.00)",
				"sales: alert to sales (info) large_order: Large order #1203, 113.20 USD on channel shopify",
			},
		},
		{
			name: "sales alerts another destination", setting: "sales.alert_to", value: "key-accounts",
			order: "large-priority.json", status: sdk.StatusOnHold,
			want: []string{
				reviewHoldLarge, reviewTag, priorityTag, salesNoteLarge, firstOrderHoldLarge,
				"sales: alert to key-accounts (info) large_order: Large order #1203, 1000.00 USD on channel shopify",
			},
		},
		{
			name: "duplicate_order off", setting: "duplicate_order.enabled", value: false,
			order: "every-hold.json", status: sdk.StatusOnHold,
			want: []string{disabledSourceHold, insufficientV789Hold, notManagedItemHold, unmappedShippingHold},
		},
		{
			name: "not_managed_item off", setting: "not_managed_item.enabled", value: false,
			order: "every-hold.json", status: sdk.StatusOnHold,
			want: []string{disabledSourceHold, duplicateOrderHold, insufficientV789Hold, unmappedShippingHold},
		},
		{
			name: "insufficient_quantity off", setting: "insufficient_quantity.enabled", value: false,
			order: "every-hold.json", status: sdk.StatusOnHold,
			want: []string{disabledSourceHold, duplicateOrderHold, notManagedItemHold, unmappedShippingHold},
		},
		{
			// The line only a disabled source could fill is then simply short.
			name: "disabled_source off: its line is insufficient instead", setting: "disabled_source.enabled", value: false,
			order: "every-hold.json", status: sdk.StatusOnHold,
			want: []string{duplicateOrderHold, insufficientBothHold, notManagedItemHold, unmappedShippingHold},
		},
		{
			name: "unmapped_shipping_policy off", setting: "unmapped_shipping_policy.enabled", value: false,
			order: "every-hold.json", status: sdk.StatusOnHold,
			want: []string{disabledSourceHold, duplicateOrderHold, insufficientV789Hold, notManagedItemHold},
		},
	}

	ctx := context.Background()
	shippedYAML, err := os.ReadFile(filepath.Join(shippedPolicies, "data.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	settings, err := configSettings(shippedYAML)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		if !slices.ContainsFunc(tests, func(tc configChange) bool { return tc.setting == s }) {
			t.Errorf("no case changes %s of the shipped data.yaml: add one", s)
		}
	}
	shipped, err := policy.LoadRevision(ctx, shippedPolicies)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := slices.Sorted(slices.Values(tc.want))
			in := fixtureInput(t, tc.order)
			before := mustEvaluate(t, shipped, in)
			if slices.Equal(outputs(before), want) {
				t.Fatalf("the shipped policies already decide %v for %s: the case cannot tell whether %s = %v took effect", tc.want, tc.order, tc.setting, tc.value)
			}

			dir := copyPoliciesWith(t, tc.setting, tc.value)
			rev, err := policy.LoadRevision(ctx, dir)
			if err != nil {
				t.Fatalf("setting %s to %v in data.yaml alone must load, got: %v", tc.setting, tc.value, err)
			}
			if rev.Tests != shipped.Tests {
				t.Errorf("%d Rego tests passed, want all %d shipped tests", rev.Tests, shipped.Tests)
			}
			d := mustEvaluate(t, rev, in)
			if d.Status != tc.status {
				t.Errorf("status = %s, want %s", d.Status, tc.status)
			}
			if got := outputs(d); !slices.Equal(got, want) {
				t.Errorf("outputs:\n  got  %s\n  want %s", strings.Join(got, "\n       "), strings.Join(want, "\n       "))
			}
		})
	}
}

// TestFixtureConfigIsTheShippedConfig: the configuration the Rego tests run
// with (data.ordergate.testing.config) is the one data.yaml ships, so the
// tests check the shipped behaviour.
func TestFixtureConfigIsTheShippedConfig(t *testing.T) {
	rs, err := rego.New(
		rego.Query("fixture := data.ordergate.testing.config; shipped := data.ordergate.config"),
		rego.Load([]string{shippedPolicies}, nil),
	).Eval(context.Background())
	if err != nil {
		t.Fatalf("evaluating the configurations: %v", err)
	}
	if len(rs) != 1 {
		t.Fatalf("got %d results, want 1: is data.ordergate.testing.config defined in policies/testing?", len(rs))
	}
	fixture, shipped := rs[0].Bindings["fixture"], rs[0].Bindings["shipped"]
	if !reflect.DeepEqual(fixture, shipped) {
		f, _ := json.MarshalIndent(fixture, "", "  ")
		s, _ := json.MarshalIndent(shipped, "", "  ")
		t.Errorf("testing.config in policies/testing/fixtures_test.rego differs from data.yaml:\n fixture: %s\n shipped: %s", f, s)
	}
}

// copyPoliciesWith copies the shipped policies to a temporary directory and
// sets ordergate.config.<setting> in its data.yaml to value.
func copyPoliciesWith(t *testing.T, setting string, value any) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "policies")
	if err := os.CopyFS(dir, os.DirFS(shippedPolicies)); err != nil {
		t.Fatalf("copying %s: %v", shippedPolicies, err)
	}
	path := filepath.Join(dir, "data.yaml")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	changed, err := setConfig(src, setting, value)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// configPath is the path of data.ordergate.config in data.yaml.
var configPath = []string{"ordergate", "config"}

// setConfig returns the YAML document src with ordergate.config.<setting>
// (a dotted path such as "review.enabled") set to value. The rest of the
// document, comments included, is kept. The setting must exist: a data
// change of a deployed installation changes a value, it does not add keys.
func setConfig(src []byte, setting string, value any) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("parsing data.yaml: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, errors.New("data.yaml is not one YAML document")
	}
	node := doc.Content[0]
	keys := append(slices.Clone(configPath), strings.Split(setting, ".")...)
	for i, key := range keys {
		if node = mappingValue(node, key); node == nil {
			return nil, fmt.Errorf("data.yaml has no %s", strings.Join(keys[:i+1], "."))
		}
	}
	var replacement yaml.Node
	if err := replacement.Encode(value); err != nil {
		return nil, fmt.Errorf("encoding %v for %s: %w", value, setting, err)
	}
	replacement.HeadComment, replacement.LineComment, replacement.FootComment = node.HeadComment, node.LineComment, node.FootComment
	*node = replacement

	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("writing data.yaml with %s changed: %w", setting, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("writing data.yaml with %s changed: %w", setting, err)
	}
	return out.Bytes(), nil
}

// configSettings lists, as dotted paths, every leaf setting under
// ordergate.config in the YAML document src (e.g. "review.enabled").
func configSettings(src []byte) ([]string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("parsing data.yaml: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, errors.New("data.yaml is not one YAML document")
	}
	node := doc.Content[0]
	for _, key := range configPath {
		if node = mappingValue(node, key); node == nil {
			return nil, fmt.Errorf("data.yaml has no %s", strings.Join(configPath, "."))
		}
	}
	var settings []string
	var walk func(prefix string, n *yaml.Node)
	walk = func(prefix string, n *yaml.Node) {
		if n.Kind != yaml.MappingNode {
			settings = append(settings, prefix)
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			walk(strings.TrimPrefix(prefix+"."+n.Content[i].Value, "."), n.Content[i+1])
		}
	}
	walk("", node)
	return settings, nil
}

// mappingValue is the value of key in the YAML mapping m, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// fixtureInput is the input for the fixture order name, with the context
// of the same name in testdata/contexts if there is one (as in
// TestShippedPoliciesGolden).
func fixtureInput(t *testing.T, name string) *policy.Input {
	t.Helper()
	in := input(loadOrder(t, name), "b2c")
	data, err := os.ReadFile(filepath.Join("testdata", "contexts", name))
	if errors.Is(err, os.ErrNotExist) {
		return in
	}
	if err != nil {
		t.Fatal(err)
	}
	in.Context = new(host.OrderContext)
	if err := json.Unmarshal(data, in.Context); err != nil {
		t.Fatalf("decoding testdata/contexts/%s: %v", name, err)
	}
	return in
}

func mustEvaluate(t *testing.T, rev *policy.Revision, in *policy.Input) *sdk.Decision {
	t.Helper()
	d, err := rev.Evaluate(context.Background(), in, policy.Limits{Timeout: time.Second})
	if err != nil {
		t.Fatalf("evaluating %s: %v", in.Order.Number, err)
	}
	return d
}

// outputs lists everything decision d does to the order, one line per item
// prefixed with the package that produced it, sorted.
func outputs(d *sdk.Decision) []string {
	var out []string
	for _, tg := range d.Tags {
		out = append(out, fmt.Sprintf("%s: tag %s", tg.Package, tg.Tag))
	}
	for _, h := range d.Holds {
		out = append(out, fmt.Sprintf("%s: hold %s/%s: %s", h.Package, h.Reason, h.Rule, h.Message))
	}
	for _, c := range d.Cancels {
		out = append(out, fmt.Sprintf("%s: cancel %s: %s", c.Package, c.Rule, c.Message))
	}
	for _, n := range d.Notes {
		out = append(out, fmt.Sprintf("%s: note %s", n.Package, n.Note))
	}
	for _, f := range d.Fields {
		out = append(out, fmt.Sprintf("%s: field %s = %s", f.Package, f.Path, f.Value))
	}
	for _, a := range d.Alerts {
		out = append(out, fmt.Sprintf("%s: alert to %s (%s) %s: %s", a.Package, a.To, a.Severity, a.Rule, a.Message))
	}
	slices.Sort(out)
	return out
}
