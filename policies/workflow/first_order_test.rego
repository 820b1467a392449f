package ordergate.workflow.first_order

import data.ordergate.testing

# customer(email, orders) is input.context.customer.
customer(email, orders) := {"email": email, "orders": orders, "orders_capped": false}

hold(total) := {
	"reason": "custom_rule",
	"rule": "first_order_review",
	"message": sprintf("first order of this customer, %s USD, over 500.00: held 2h for review", [total]),
	"for": "2h",
}

# Each case: the total, the customer context, and whether the order is held.
test_first_order[name] if {
	some name, tc in {
		"a first-time customer's 500.01 is held": {"total": "500.01", "customer": customer("dana@example.com", 0), "held": true},
		"a first-time customer's 2500 is held": {"total": "2500", "customer": customer("dana@example.com", 0), "held": true},
		"500.00, at the threshold, is not held": {"total": "500.00", "customer": customer("dana@example.com", 0), "held": false},
		"a returning customer's 900.00 is not held": {"total": "900.00", "customer": customer("dana@example.com", 1), "held": false},
		"an order without an email is not held": {"total": "900.00", "customer": customer("", 0), "held": false},
	}
	inp := testing.with_context(testing.input_for(testing.with_total(tc.total)), {"customer": tc.customer})
	holds == {hold(tc.total) | tc.held} with input as inp with data.ordergate.config as testing.config
}

test_off_when_disabled if {
	inp := testing.with_context(testing.input_for(testing.with_total("900.00")), {"customer": customer("dana@example.com", 0)})
	holds == set() with input as inp
		with data.ordergate.config as testing.config
		with data.ordergate.config.first_order.enabled as false
}

# Reference scenario: #1203 (139.12 USD) is not large, first order or not.
test_reference_order_1203_is_not_held if {
	holds == set() with input as testing.input_for(testing.order_1203) with data.ordergate.config as testing.config
}
