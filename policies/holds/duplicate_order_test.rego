package ordergate.workflow.holds.duplicate_order

import data.ordergate.testing

original := {"id": "01JD5X0000000000000000000A", "channel_id": "acme", "external_id": "PO-77", "number": "77", "placed_at": "2025-11-27T10:00:00Z", "status": "open"}

with_duplicates(orders) := testing.with_context(testing.input_for(testing.order_1203), {"duplicates": {"enabled": true, "window": "24h", "orders": orders}})

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

test_switched_off if {
	holds == set() with input as with_duplicates([original])
		with data.ordergate.config as testing.config
		with data.ordergate.config.duplicate_order.enabled as false
}
