package ordergate.workflow.holds.duplicate_order

import data.ordergate.testing

original := {"id": "01JD5X0000000000000000000A", "channel_id": "acme", "external_id": "PO-77", "number": "77", "placed_at": "2025-11-27T10:00:00Z", "status": "open"}

with_duplicates(orders) := with_counted(orders, count(orders), false)

with_counted(orders, n, capped) := testing.with_context(testing.input_for(testing.order_1203), {"duplicates": {"enabled": true, "window": "24h", "orders": orders, "count": n, "count_capped": capped}})

test_duplicates[name] if {
	some name, tc in {
		"no look-alike, no hold": {"orders": [], "holds": set()},
		"one look-alike is named": {
			"orders": [original],
			"holds": {{
				"reason": "duplicate_order", "rule": "duplicate_order",
				"message": "looks like 01JD5X0000000000000000000A (77 from acme): same shipping address and items, placed within 24h",
			}},
		},
		"several are named, oldest first": {
			"orders": [original, object.union(original, {"id": "01JD5X0000000000000000000B", "number": "78"})],
			"holds": {{
				"reason": "duplicate_order", "rule": "duplicate_order",
				"message": "looks like 01JD5X0000000000000000000A (77 from acme), 01JD5X0000000000000000000B (78 from acme): same shipping address and items, placed within 24h",
			}},
		},
	}
	holds == tc.holds with input as with_duplicates(tc.orders) with data.ordergate.config as testing.config
}

# The host lists at most 10 look-alikes and counts up to 100: the message
# says how many more there are.
test_more_than_listed[name] if {
	some name, tc in {
		"counted": {"count": 12, "capped": false, "more": "and 11 more"},
		"capped": {"count": 100, "capped": true, "more": "and at least 99 more"},
	}
	holds == {{
		"reason": "duplicate_order", "rule": "duplicate_order",
		"message": sprintf("looks like 01JD5X0000000000000000000A (77 from acme) %s: same shipping address and items, placed within 24h", [tc.more]),
	}} with input as with_counted([original], tc.count, tc.capped) with data.ordergate.config as testing.config
}

test_switched_off if {
	holds == set() with input as with_duplicates([original])
		with data.ordergate.config as testing.config
		with data.ordergate.config.duplicate_order.enabled as false
}
