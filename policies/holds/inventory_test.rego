# Tests of insufficient_quantity and disabled_source, which share the
# inventory package's facts.
package ordergate.workflow.holds.inventory_test

import data.ordergate.testing
import data.ordergate.workflow.holds.disabled_source
import data.ordergate.workflow.holds.insufficient_quantity

# stock(sources) is order_1203's input (V789 x 5) in routing group main
# with the given sources.
stock(sources) := testing.with_context(testing.input_for(testing.order_1203), {
	"catalog": {"in_use": true},
	"routing_group": testing.main_group,
	"line_items": [testing.stocked(sources)],
})

austin(n) := testing.source("austin", true, "", n)

dallas_off_in_group(n) := testing.source("dallas", false, "group", n)

reno_disabled(n) := testing.source("reno", false, "source", n)

short_hold(message) := {"reason": "insufficient_quantity", "rule": "insufficient_quantity", "message": message}

disabled_hold(message) := {"reason": "disabled_source", "rule": "disabled_source", "message": message}

test_inventory[name] if {
	some name, tc in {
		"enough stock in one source": {"sources": [austin(5)], "short": set(), "disabled": set()},
		"enough across enabled sources": {"sources": [austin(3), testing.source("boise", true, "", 2)], "short": set(), "disabled": set()},
		"not enough anywhere": {
			"sources": [austin(2), dallas_off_in_group(1)],
			"short": {short_hold("not enough stock in routing group main: V789 wanted 5, available 2")},
			"disabled": set(),
		},
		"no stock record at all": {
			"sources": [],
			"short": {short_hold("not enough stock in routing group main: V789 wanted 5, available 0")},
			"disabled": set(),
		},
		"only a source disabled in the group could fill it": {
			"sources": [austin(1), dallas_off_in_group(9)],
			"short": set(),
			"disabled": {disabled_hold("only disabled sources of routing group main could fill: V789 wanted 5, available 1; dallas has 9 but is disabled in the routing group")},
		},
		"only a disabled source could fill it": {
			"sources": [reno_disabled(5)],
			"short": set(),
			"disabled": {disabled_hold("only disabled sources of routing group main could fill: V789 wanted 5, available 0; reno has 5 but is disabled as a source")},
		},
	}
	insufficient_quantity.holds == tc.short with input as stock(tc.sources) with data.ordergate.config as testing.config
	disabled_source.holds == tc.disabled with input as stock(tc.sources) with data.ordergate.config as testing.config
}

# With disabled_source off, a line only disabled sources could fill is
# simply short.
test_disabled_source_off_means_insufficient if {
	inp := stock([dallas_off_in_group(9)])
	disabled_source.holds == set() with input as inp
		with data.ordergate.config as testing.config
		with data.ordergate.config.disabled_source.enabled as false
	insufficient_quantity.holds == {short_hold("not enough stock in routing group main: V789 wanted 5, available 0")} with input as inp
		with data.ordergate.config as testing.config
		with data.ordergate.config.disabled_source.enabled as false
}

test_insufficient_off if {
	insufficient_quantity.holds == set() with input as stock([])
		with data.ordergate.config as testing.config
		with data.ordergate.config.insufficient_quantity.enabled as false
}

# No routing group: inventory is not tracked, nothing is held.
test_no_routing_group if {
	inp := testing.with_context(stock([]), {"routing_group": null})
	insufficient_quantity.holds == set() with input as inp with data.ordergate.config as testing.config
	disabled_source.holds == set() with input as inp with data.ordergate.config as testing.config
}

# Lines that are not managed are the not_managed_item hold's business.
test_unmanaged_lines_are_not_checked if {
	line := object.union(testing.stocked([]), {"managed": false, "catalog": null})
	inp := testing.with_context(stock([]), {"line_items": [line]})
	insufficient_quantity.holds == set() with input as inp with data.ordergate.config as testing.config
}

# Without a catalog every line with a SKU is checked.
test_without_catalog_every_sku_is_checked if {
	line := object.union(testing.stocked([austin(1)]), {"managed": false, "catalog": null})
	inp := testing.with_context(stock([]), {"catalog": {"in_use": false}, "line_items": [line]})
	insufficient_quantity.holds == {short_hold("not enough stock in routing group main: V789 wanted 5, available 1")} with input as inp
		with data.ordergate.config as testing.config
}

# Several short lines are named in line order.
test_lines_in_line_order if {
	a := object.union(testing.stocked([austin(0)]), {"index": 0, "sku": "B2", "quantity": 2, "available": 0})
	b := object.union(testing.stocked([austin(1)]), {"index": 1, "sku": "A1", "quantity": 3, "available": 1})
	inp := testing.with_context(stock([]), {"line_items": [a, b]})
	insufficient_quantity.holds == {short_hold("not enough stock in routing group main: B2 wanted 2, available 0; A1 wanted 3, available 1")} with input as inp
		with data.ordergate.config as testing.config
}
