# Tests of the workflow as a whole: the outputs of every shipped package for
# one order, merged the way the host merges them (sets are unions; any
# cancel wins, else any hold puts the order on hold). This package is outside
# ordergate.workflow, so the host never evaluates it as a workflow package.
package ordergate.workflow_test

import data.ordergate.testing
import data.ordergate.workflow.international
import data.ordergate.workflow.priority
import data.ordergate.workflow.review
import data.ordergate.workflow.sales

# decision is the merged outcome for input. Add a package here when you add
# one to the workflow. The order's own tags are kept.
decision := {
	"status": status,
	"tags": union({{t | some t in input.order.tags}, review.tags, priority.tags, international.tags}),
	"holds": union({review.holds, international.holds}),
	"notes": sales.notes,
	"alerts": sales.alerts,
}

status := "on_hold" if count(union({review.holds, international.holds})) > 0

else := "open"

# Reference scenario: order #1203 from Shopify (b2c), V789 x 5, shipped to
# the US: on hold for review only, tagged "Review Needed", nothing else.
test_reference_order_1203 if {
	d := decision with input as testing.input_for(testing.order_1203) with data.ordergate.config as testing.config
	d.status == "on_hold"
	d.tags == {"web", "Review Needed"}
	{h.rule | some h in d.holds} == {"hold_large_quantity"}
	d.notes == set()
	d.alerts == set()
}

# Two packages tagging one order: 25 on one line is over the review limit
# and reaches the priority threshold. Each package gives its own tag, and
# both end up on the order (tags merge as a union, never last-rule-wins).
test_two_packages_tag_one_order if {
	inp := testing.input_for(testing.order_with({"line_items": [testing.line("V789", 25)]}))
	review.tags == {"Review Needed"} with input as inp with data.ordergate.config as testing.config
	priority.tags == {"High Priority"} with input as inp with data.ordergate.config as testing.config
	international.tags == set() with input as inp with data.ordergate.config as testing.config
	d := decision with input as inp with data.ordergate.config as testing.config
	d.tags == {"web", "Review Needed", "High Priority"}
}

# Everything at once: abroad, large quantity, many items, large total.
test_every_rule_fires if {
	order := testing.order_with({
		"shipping_address": object.union(testing.order_1203.shipping_address, {"country": "CA"}),
		"line_items": [testing.line("V789", 30)],
		"totals": object.union(testing.order_1203.totals, {"total": "1300.00"}),
	})
	d := decision with input as testing.input_for(order) with data.ordergate.config as testing.config
	d.status == "on_hold"
	d.tags == {"web", "Review Needed", "High Priority", "International"}
	{h.rule | some h in d.holds} == {"hold_large_quantity", "hold_international"}
	count(d.notes) == 1
	{a.to | some a in d.alerts} == {"sales"}
}

# A small domestic order passes untouched.
test_plain_order_is_open if {
	order := testing.order_with({"line_items": [testing.line("A1", 2)]})
	d := decision with input as testing.input_for(order) with data.ordergate.config as testing.config
	d.status == "open"
	d.tags == {"web"}
	d.holds == set()
}

# Every output item has the shape the host accepts: only the allowed keys,
# string values, a standard hold reason and a known alert severity.
test_outputs_follow_the_contract if {
	order := testing.order_with({
		"shipping_address": object.union(testing.order_1203.shipping_address, {"country": "CA"}),
		"line_items": [testing.line("V789", 30), testing.line("", 6)],
		"totals": object.union(testing.order_1203.totals, {"total": "1300.00"}),
	})
	d := decision with input as testing.input_for(order) with data.ordergate.config as testing.config
	every h in d.holds {
		object.keys(h) == {"reason", "rule", "message"}
		h.reason == "custom_rule"
		every v in h { is_string(v) }
	}
	every a in d.alerts {
		object.keys(a) == {"to", "severity", "message", "rule"}
		a.severity in {"info", "warning", "critical"}
		every v in a { is_string(v) }
	}
	every t in d.tags { is_string(t) }
	every n in d.notes { is_string(n) }
}
