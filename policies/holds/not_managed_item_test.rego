package ordergate.workflow.holds.not_managed_item

import data.ordergate.testing

managed := {"sku": "V789", "title": "Kettle", "managed": true}

# input_with(lines, in_use) is order_1203's input with the given line
# contexts and catalog switch.
input_with(lines, in_use) := testing.with_context(testing.input_for(testing.order_1203), {"catalog": {"in_use": in_use}, "line_items": lines})

line(i, sku, catalog) := object.union(testing.line_context(i, testing.line(sku, 1)), {"catalog": catalog, "managed": object.get(catalog, "managed", false)}) if catalog != null

else := testing.line_context(i, testing.line(sku, 1))

test_not_managed[name] if {
	some name, tc in {
		"a managed item passes": {"lines": [line(0, "V789", managed)], "message": null},
		"an unknown SKU is held": {"lines": [line(0, "X1", null)], "message": "X1 is not in the catalog"},
		"an item marked not managed is held": {
			"lines": [line(0, "V789", object.union(managed, {"managed": false}))],
			"message": "V789 is not managed",
		},
		"a line without SKU is held by position": {"lines": [line(0, "V789", managed), line(1, "", null)], "message": "line #2 has no SKU"},
		"every line at fault is named in line order": {
			"lines": [line(0, "B2", null), line(1, "V789", managed), line(2, "A1", object.union(managed, {"sku": "A1", "managed": false}))],
			"message": "B2 is not in the catalog; A1 is not managed",
		},
	}
	got := holds with input as input_with(tc.lines, true) with data.ordergate.config as testing.config
	expect(got, tc.message)
}

expect(got, null) if got == set()

expect(got, message) if got == {{"reason": "not_managed_item", "rule": "not_managed_item", "message": message}}

# A merchant without a catalog in ordergate gets no such hold.
test_no_catalog_no_hold if {
	holds == set() with input as input_with([line(0, "X1", null)], false) with data.ordergate.config as testing.config
}

test_switched_off if {
	holds == set() with input as input_with([line(0, "X1", null)], true)
		with data.ordergate.config as testing.config
		with data.ordergate.config.not_managed_item.enabled as false
}
