package ordergate.workflow.priority

import data.ordergate.testing

# Each case: the order's line quantities and the tags the rule must give.
test_high_priority[name] if {
	some name, tc in {
		"5 items are not tagged": {"quantities": [5], "tags": set()},
		"19 items, one short, are not tagged": {"quantities": [10, 9], "tags": set()},
		"20 items, at the threshold, are tagged": {"quantities": [4, 4, 4, 4, 4], "tags": {"High Priority"}},
		"25 items on one line are tagged": {"quantities": [25], "tags": {"High Priority"}},
		"21 items over many lines are tagged": {"quantities": [1, 2, 3, 15], "tags": {"High Priority"}},
		"an order without lines is not tagged": {"quantities": [], "tags": set()},
	}
	lines := [testing.line(sprintf("S%d", [i]), q) | some i, q in tc.quantities]
	tags == tc.tags with input as testing.input_for(testing.order_with({"line_items": lines}))
		with data.ordergate.config as testing.config
}

test_total_quantity_sums_every_line if {
	lines := [testing.line("A1", 3), testing.line("B2", 7)]
	total_quantity == 10 with input as testing.input_for(testing.order_with({"line_items": lines}))
		with data.ordergate.config as testing.config
}

# Reference scenario: #1203 has 5 items, it is not high priority.
test_reference_order_1203_is_not_tagged if {
	tags == set() with input as testing.input_for(testing.order_1203) with data.ordergate.config as testing.config
}

test_disabled_gives_nothing if {
	inp := testing.input_for(testing.order_with({"line_items": [testing.line("A1", 50)]}))
	tags == {"High Priority"} with input as inp with data.ordergate.config as testing.config
	tags == set() with input as inp
		with data.ordergate.config as testing.config
		with data.ordergate.config.priority.enabled as false
}

test_config_knobs if {
	inp := testing.input_for(testing.order_1203)
	tags == {"Rush"} with input as inp
		with data.ordergate.config as testing.config
		with data.ordergate.config.priority.min_total_quantity as 5
		with data.ordergate.config.priority.tag as "Rush"
	tags == set() with input as inp
		with data.ordergate.config as testing.config
		with data.ordergate.config.priority.min_total_quantity as 6
}
