# Sales: tell the sales team about large orders, with a line on the order
# note and an alert. The order is neither held nor tagged.
#
# Config: data.ordergate.config.sales
#   enabled            the rule runs only when this is true
#   large_order_total  an order whose totals.total is at least this, in the
#                      order's currency, is large; a decimal string such as
#                      "1000.00" (a plain number works too)
#   alert_to           name of the alert destination, e.g. "sales"
package ordergate.workflow.sales

# large_order holds when the rule is on and the order total reaches the
# threshold. Amounts are decimal strings: compare them as numbers, never as
# strings ("999.00" > "1000.00" as strings).
large_order if {
	data.ordergate.config.sales.enabled == true
	to_number(input.order.totals.total) >= to_number(data.ordergate.config.sales.large_order_total)
}

# summary describes the order for people, e.g. "#1203, 1250.00 USD".
summary := sprintf("%s, %s %s", [input.order.number, input.order.totals.total, input.order.currency])

# A line appended to the order note.
notes contains sprintf("Sales team: large order %s (at least %v)", [
	summary,
	data.ordergate.config.sales.large_order_total,
]) if large_order

# An alert to the sales team's destination.
alerts contains {
	"to": data.ordergate.config.sales.alert_to,
	"severity": "info",
	"rule": "large_order",
	"message": sprintf("Large order %s on channel %s", [summary, input.channel.id]),
} if large_order
