package policy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/sdk"
)

// generatedRules writes n rules of the kinds authors write: per-SKU holds,
// per-country tags, per-customer tags and per-channel quantity
// thresholds. In the "fast" shape (policies/README.md, "Rule shapes that
// stay fast") country, customer and channel rules are equalities on plain
// input references, which OPA's rule index selects from the input, and
// per-SKU rules are one rule looking SKUs up in a data object. In the
// "loop" shape every per-SKU rule iterates the line items itself, which
// the index cannot select. Only the rule naming V789 matches the
// benchmark order.
func generatedRules(n int, fast bool) map[string]string {
	var b strings.Builder
	b.WriteString("package ordergate.workflow.generated\n\n")
	skus := map[string]string{"V789": "Seen"}
	for i := range n {
		switch i % 4 {
		case 0:
			if fast {
				skus[fmt.Sprintf("S%05d", i)] = fmt.Sprintf("sku-%d", i)
			} else {
				fmt.Fprintf(&b, "tags contains \"sku-%d\" if input.order.line_items[_].sku == \"S%05d\"\n", i, i)
			}
		case 1:
			fmt.Fprintf(&b, "tags contains \"country-%d\" if input.order.shipping_address.country == \"C%d\"\n", i, i)
		case 2:
			fmt.Fprintf(&b, "tags contains \"customer-%d\" if input.order.customer.email == \"c%d@example.com\"\n", i, i)
		case 3:
			fmt.Fprintf(&b, "tags contains \"bulk-%d\" if {\n\tinput.channel.id == \"ch-%d\"\n\tsome line in input.order.line_items\n\tline.quantity > 100\n}\n", i, i)
		}
	}
	files := map[string]string{}
	if fast {
		b.WriteString("tags contains tag if {\n\tsome line in input.order.line_items\n\ttag := data.generated.skus[line.sku]\n}\n")
		data, _ := json.Marshal(map[string]any{"generated": map[string]any{"skus": skus}})
		files["generated.json"] = string(data)
	} else {
		b.WriteString("tags contains \"Seen\" if input.order.line_items[_].sku == \"V789\"\n")
	}
	files["workflow/generated.rego"] = b.String()
	return files
}

// BenchmarkRuleCount measures one decision with 10, 100, 1,000 and 10,000
// generated rules, side by side in both shapes. Target: with the fast
// shape, 1,000 rules cost at most 3x what 10 cost.
func BenchmarkRuleCount(b *testing.B) {
	order := loadOrder(b, "order-1203.json")
	for _, shape := range []string{"fast", "loop"} {
		for _, n := range []int{10, 100, 1000, 10000} {
			b.Run(fmt.Sprintf("shape=%s/rules=%d", shape, n), func(b *testing.B) {
				e := mustEngine(b, writePolicies(b, generatedRules(n, shape == "fast")))
				in := input(order, "b2c")
				d := e.Evaluate(context.Background(), in)
				if d.Error != "" || len(d.Tags) != 1 || d.Tags[0].Tag != "Seen" || d.Status != sdk.StatusOpen {
					b.Fatalf("decision = %+v", d)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if d := e.Evaluate(context.Background(), in); d.Error != "" {
						b.Fatal(d.Error)
					}
				}
			})
		}
	}
}
