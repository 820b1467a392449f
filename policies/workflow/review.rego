# Review: hold orders that have an unusually large quantity on one line, so
# that a person checks them before they ship, and tag them for review.
#
# Config: data.ordergate.config.review
#   enabled            the rule runs only when this is true
#   max_line_quantity  a line whose quantity is over this is held (limit 4:
#                      quantity 4 passes, 5 is held)
#   tag                tag added to the orders this rule holds
package ordergate.workflow.review

# over_limit describes, in line order, every line whose quantity is over the
# limit, e.g. ["line V789 has quantity 5"]. Empty when no line is.
over_limit := [sprintf("line %s has quantity %v", [line_label(i, line), line.quantity]) |
	some i, line in input.order.line_items
	line.quantity > data.ordergate.config.review.max_line_quantity
]

# line_label names a line by its SKU, or by its position when the channel
# sent none.
line_label(i, line) := line.sku if line.sku != ""

else := sprintf("#%d (no SKU)", [i + 1])

# needs_review holds when the rule is on and some line is over the limit.
needs_review if {
	data.ordergate.config.review.enabled == true
	count(over_limit) > 0
}

# Hold the order, naming every offending line. The message depends only on
# the order and the config, so a hold an operator released stays released
# until the lines change.
holds contains {
	"reason": "custom_rule",
	"rule": "hold_large_quantity",
	"message": sprintf("%s, over the review limit of %v", [
		concat(", ", over_limit),
		data.ordergate.config.review.max_line_quantity,
	]),
} if needs_review

# Tag the held order (default "Review Needed").
tags contains data.ordergate.config.review.tag if needs_review
