# First order: hold a first-time customer's large order for a fraud-review
# window, then let it go by itself. The hold is timed ("for"): the host
# lifts it when due, unless a person released or canceled the order first.
# A first-time customer is one with an email and no order with that email
# imported before this one (input.context.customer.orders, any channel,
# any status).
#
# Config: data.ordergate.config.first_order
#   enabled     the rule runs only when this is true
#   total_over  an order whose totals.total is over this, in the order's
#               currency, is large; a decimal string such as "500.00"
#   hold_for    how long the hold lasts, a duration such as "2h"
package ordergate.workflow.first_order

# first_time holds when the customer has an email and no earlier order.
first_time if {
	input.context.customer.email != ""
	input.context.customer.orders == 0
}

# large holds when the order total is over the threshold. Amounts are
# decimal strings: compare them as numbers.
large if to_number(input.order.totals.total) > to_number(data.ordergate.config.first_order.total_over)

# Hold the order for hold_for. The message depends only on the order and
# the config, so a released hold stays released.
holds contains {
	"reason": "custom_rule",
	"rule": "first_order_review",
	"message": sprintf("first order of this customer, %s %s, over %s: held %s for review", [
		input.order.totals.total, input.order.currency,
		data.ordergate.config.first_order.total_over, data.ordergate.config.first_order.hold_for,
	]),
	"for": data.ordergate.config.first_order.hold_for,
} if {
	data.ordergate.config.first_order.enabled == true
	first_time
	large
}
