# Shared fixtures for the workflow tests. This file only holds test data: it
# is named *_test.rego so the host never serves it, and it lives outside
# ordergate.workflow so it adds no outputs. (Do not move fixtures under a
# folder named testdata: the host skips such folders when it loads policies,
# while stock `opa test` does not, so the tests would pass in one and fail in
# the other.)
package ordergate.testing

# config is data.ordergate.config as policies/data.yaml ships it. Every test
# runs the workflow with it, stating the configuration it depends on,
# instead of reading the data.yaml the policies are loaded with:
#
#	holds == set() with input as inp with data.ordergate.config as testing.config
#
# so that switching a rule group off or changing a threshold in data.yaml
# changes decisions, not the tests, and the host still loads the revision.
# A test of another value overrides one key after it (OPA applies the
# `with` clauses in order, so the whole config must come first):
#
#	... with data.ordergate.config as testing.config
#		with data.ordergate.config.review.enabled as false
#
# Keep it equal to data.yaml (TestFixtureConfigIsTheShippedConfig in
# host/policy checks), so the tests check the shipped behaviour.
config := {
	"review": {
		"enabled": true,
		"max_line_quantity": 4,
		"tag": "Review Needed",
	},
	"priority": {
		"enabled": true,
		"min_total_quantity": 20,
		"tag": "High Priority",
	},
	"international": {
		"enabled": true,
		"home_countries": ["US"],
		"tag": "International",
	},
	"sales": {
		"enabled": true,
		"large_order_total": "1000.00",
		"alert_to": "sales",
	},
	"first_order": {
		"enabled": true,
		"total_over": "500.00",
		"hold_for": "2h",
	},
	"duplicate_order": {"enabled": true},
	"not_managed_item": {"enabled": true},
	"insufficient_quantity": {"enabled": true},
	"disabled_source": {"enabled": true},
	"unmapped_shipping_policy": {"enabled": true},
}

# order_1203 is the reference scenario: order #1203 from Shopify, one line of
# SKU V789 with quantity 5, shipped to the US. Every field is present, as the
# host guarantees; billing_address is optional.
order_1203 := {
	"id": "01JD5X3V8W4ZQ2M7N9P6R1T0SA",
	"channel_id": "shopify",
	"external_id": "5521873649901",
	"number": "#1203",
	"placed_at": "2025-11-27T14:02:11Z",
	"currency": "USD",
	"customer": {
		"name": "Dana Whitfield",
		"email": "dana@example.com",
		"phone": "+1 555 0100",
	},
	"shipping_address": {
		"name": "Dana Whitfield",
		"company": "",
		"address1": "12 Harbor Lane",
		"address2": "",
		"city": "Portland",
		"region": "OR",
		"postal_code": "97201",
		"country": "US",
	},
	"billing_address": {
		"name": "Dana Whitfield",
		"company": "",
		"address1": "12 Harbor Lane",
		"address2": "",
		"city": "Portland",
		"region": "OR",
		"postal_code": "97201",
		"country": "US",
	},
	"shipping_method": "Standard",
	"line_items": [{
		"sku": "V789",
		"title": "Ceramic pour-over kettle",
		"quantity": 5,
		"unit_price": "24.00",
	}],
	"totals": {
		"subtotal": "120.00",
		"shipping": "8.50",
		"tax": "10.62",
		"total": "139.12",
	},
	"note": "",
	"tags": ["web"],
	"custom_fields": {},
}

# shopify is input.channel for the reference scenario.
shopify := {"id": "shopify", "kind": "b2c"}

# now is input.now in every test.
now := "2025-11-27T14:02:12.5Z"

# input_for(order) is the workflow input for order, from Shopify, with the
# context of an installation that keeps no catalog, inventory or shipping
# mappings (so no built-in hold applies).
input_for(order) := {"order": order, "channel": shopify, "now": now, "context": context_for(order)}

# context_for(order) is input.context with nothing known about the order.
context_for(order) := {
	"catalog": {"in_use": false},
	"line_items": [line_context(i, line) | some i, line in order.line_items],
	"routing_group": null,
	"shipping": {"method": order.shipping_method, "channel_has_mappings": false, "mapped": false, "policy": ""},
	"duplicates": {"enabled": true, "window": "24h", "orders": [], "count": 0, "count_capped": false},
	"customer": {"email": lower(order.customer.email), "orders": 0, "orders_capped": false},
}

# line_context(i, line) is the context of a line nothing is known about.
line_context(i, line) := {
	"index": i,
	"sku": line.sku,
	"quantity": line.quantity,
	"catalog": null,
	"managed": false,
	"available": 0,
	"available_disabled": 0,
	"sources": [],
}

# with_context(inp, fields) is the input inp with top-level context fields
# replaced.
with_context(inp, fields) := object.union(inp, {"context": object.union(inp.context, fields)})

# main_group is a routing group for the inventory tests.
main_group := {"id": "main", "name": "Main", "default": true}

# stocked(sources) is the context of line_items[0] of order_1203
# (V789 x 5, managed) with the given sources, each
# {"id", "enabled", "disabled_by", "available"}.
stocked(sources) := {
	"index": 0,
	"sku": "V789",
	"quantity": 5,
	"catalog": {"sku": "V789", "title": "Kettle", "managed": true},
	"managed": true,
	"available": sum([s.available | some s in sources; s.enabled]),
	"available_disabled": sum([s.available | some s in sources; not s.enabled]),
	"sources": sources,
}

# source(id, enabled, disabled_by, available) is one source of a line.
source(id, enabled, disabled_by, available) := {"id": id, "name": upper(id), "enabled": enabled, "disabled_by": disabled_by, "available": available}

# order_with(fields) is order_1203 with the given top-level fields replaced.
order_with(fields) := object.union(order_1203, fields)

# line(sku, quantity) is a line item.
line(sku, quantity) := {"sku": sku, "title": sprintf("Item %s", [sku]), "quantity": quantity, "unit_price": "10.00"}

# shipped_to(country) is order_1203 shipped to country.
shipped_to(country) := order_with({"shipping_address": object.union(order_1203.shipping_address, {"country": country})})

# with_total(total) is order_1203 with totals.total set to total.
with_total(total) := order_with({"totals": object.union(order_1203.totals, {"total": total})})
