package ordergate.workflow.sales

import data.ordergate.testing

# The note and alert for an order #1203 of the given total in USD.
note(total) := sprintf("Sales team: large order #1203, %s USD (at least 1000.00)", [total])

alert(total) := {
	"to": "sales",
	"severity": "info",
	"rule": "large_order",
	"message": sprintf("Large order #1203, %s USD on channel shopify", [total]),
}

# Each case: totals.total and whether the order is large.
test_large_order[name] if {
	some name, tc in {
		"139.12 is not large": {"total": "139.12", "large": false},
		"999.99 is not large": {"total": "999.99", "large": false},
		"999.9999 is not large": {"total": "999.9999", "large": false},
		"1000.00, at the threshold, is large": {"total": "1000.00", "large": true},
		"1000 without decimals is large": {"total": "1000", "large": true},
		"1000.01 is large": {"total": "1000.01", "large": true},
		# As strings "25000.00" < "9..." would sort wrong; numbers do not.
		"25000.00 is large": {"total": "25000.00", "large": true},
		"0 is not large": {"total": "0", "large": false},
	}
	inp := testing.input_for(testing.with_total(tc.total))
	want_notes := {note(tc.total) | tc.large}
	want_alerts := {alert(tc.total) | tc.large}
	notes == want_notes with input as inp with data.ordergate.config as testing.config
	alerts == want_alerts with input as inp with data.ordergate.config as testing.config
}

# Reference scenario: #1203 totals 139.12 USD, nothing for sales.
test_reference_order_1203_is_not_large if {
	inp := testing.input_for(testing.order_1203)
	notes == set() with input as inp with data.ordergate.config as testing.config
	alerts == set() with input as inp with data.ordergate.config as testing.config
}

test_disabled_gives_nothing if {
	inp := testing.input_for(testing.with_total("5000.00"))
	notes == set() with input as inp
		with data.ordergate.config as testing.config
		with data.ordergate.config.sales.enabled as false
	alerts == set() with input as inp
		with data.ordergate.config as testing.config
		with data.ordergate.config.sales.enabled as false
}

test_config_knobs if {
	inp := testing.input_for(testing.with_total("600.00"))
	notes == {"Sales team: large order #1203, 600.00 USD (at least 500)"} with input as inp
		with data.ordergate.config as testing.config
		with data.ordergate.config.sales.large_order_total as 500
	{a.to | some a in alerts} == {"key-accounts"} with input as inp
		with data.ordergate.config as testing.config
		with data.ordergate.config.sales.large_order_total as "500.00"
		with data.ordergate.config.sales.alert_to as "key-accounts"
}
