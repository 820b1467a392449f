# Priority: tag orders with many items so the warehouse picks them first.
#
# Config: data.ordergate.config.priority
#   enabled             the rule runs only when this is true
#   min_total_quantity  tag when the sum of all line quantities is at least
#                       this (20: 19 items are not tagged, 20 are)
#   tag                 tag to add (default "High Priority")
package ordergate.workflow.priority

# total_quantity is the number of items on the order, over all lines.
total_quantity := sum([line.quantity | some line in input.order.line_items])

# Tag orders of at least min_total_quantity items.
tags contains data.ordergate.config.priority.tag if {
	data.ordergate.config.priority.enabled == true
	total_quantity >= data.ordergate.config.priority.min_total_quantity
}
