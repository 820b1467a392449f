package ordergate.workflow.review

import data.ordergate.testing

# A hold of this rule with the given message.
hold(message) := {"reason": "custom_rule", "rule": "hold_large_quantity", "message": message}

# Each case: the order's lines, and the holds and tags the rule must give.
test_large_quantity[name] if {
	some name, tc in {
		"quantity 1 is not held": {
			"lines": [testing.line("A1", 1)],
			"holds": set(),
			"tags": set(),
		},
		"quantity 4, at the limit, is not held": {
			"lines": [testing.line("V789", 4)],
			"holds": set(),
			"tags": set(),
		},
		"quantity 5, over the limit, is held": {
			"lines": [testing.line("V789", 5)],
			"holds": {hold("line V789 has quantity 5, over the review limit of 4")},
			"tags": {"Review Needed"},
		},
		"many lines at the limit are not held": {
			"lines": [testing.line("A1", 4), testing.line("B2", 4), testing.line("C3", 4)],
			"holds": set(),
			"tags": set(),
		},
		"one line over the limit among others is held, naming it": {
			"lines": [testing.line("A1", 2), testing.line("B2", 9), testing.line("C3", 4)],
			"holds": {hold("line B2 has quantity 9, over the review limit of 4")},
			"tags": {"Review Needed"},
		},
		"several lines over the limit make one hold naming each, in line order": {
			"lines": [testing.line("B2", 6), testing.line("A1", 1), testing.line("C3", 25)],
			"holds": {hold("line B2 has quantity 6, line C3 has quantity 25, over the review limit of 4")},
			"tags": {"Review Needed"},
		},
		"a line without SKU is named by its position": {
			"lines": [testing.line("A1", 1), testing.line("", 7)],
			"holds": {hold("line #2 (no SKU) has quantity 7, over the review limit of 4")},
			"tags": {"Review Needed"},
		},
		"an order without lines is not held": {
			"lines": [],
			"holds": set(),
			"tags": set(),
		},
	}
	inp := testing.input_for(testing.order_with({"line_items": tc.lines}))
	holds == tc.holds with input as inp with data.ordergate.config as testing.config
	tags == tc.tags with input as inp with data.ordergate.config as testing.config
}

# Reference scenario: order #1203 from Shopify (b2c), V789 x 5, shipped to
# the US, is held and tagged "Review Needed".
test_reference_order_1203_is_held if {
	inp := testing.input_for(testing.order_1203)
	holds == {hold("line V789 has quantity 5, over the review limit of 4")} with input as inp
		with data.ordergate.config as testing.config
	tags == {"Review Needed"} with input as inp with data.ordergate.config as testing.config
}

# The channel does not matter: a b2b order is held the same way.
test_b2b_channel_is_held_too if {
	inp := object.union(testing.input_for(testing.order_1203), {"channel": {"id": "reseller-42", "kind": "b2b"}})
	count(holds) == 1 with input as inp with data.ordergate.config as testing.config
}

# enabled: false switches the rule off.
test_disabled_gives_nothing if {
	inp := testing.input_for(testing.order_1203)
	holds == set() with input as inp
		with data.ordergate.config as testing.config
		with data.ordergate.config.review.enabled as false
	tags == set() with input as inp
		with data.ordergate.config as testing.config
		with data.ordergate.config.review.enabled as false
}

# Only the boolean true switches the rule on; a missing switch is off.
test_enabled_must_be_true if {
	inp := testing.input_for(testing.order_1203)
	holds == set() with input as inp
		with data.ordergate.config as testing.config
		with data.ordergate.config.review.enabled as "true"
	holds == set() with input as inp
		with data.ordergate.config as testing.config
		with data.ordergate.config.review as {"max_line_quantity": 4, "tag": "Review Needed"}
}

# The limit and the tag come from data.
test_config_knobs if {
	inp := testing.input_for(testing.order_1203)
	holds == set() with input as inp
		with data.ordergate.config as testing.config
		with data.ordergate.config.review.max_line_quantity as 5
	holds == {hold("line V789 has quantity 5, over the review limit of 3")} with input as inp
		with data.ordergate.config as testing.config
		with data.ordergate.config.review.max_line_quantity as 3
	tags == {"Check quantity"} with input as inp
		with data.ordergate.config as testing.config
		with data.ordergate.config.review.tag as "Check quantity"
}
