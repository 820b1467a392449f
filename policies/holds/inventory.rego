# Inventory: the lines an order's routing group cannot fill.
#
# A line is checked when it has a SKU, a routing group applies to the
# channel (its own or the default group), and the line is managed (or the
# merchant keeps no catalog). Its stock is what the group's enabled sources
# have (input.context.line_items[_].available); what disabled sources have
# is available_disabled. Without any routing group nothing is checked.
#
# This package only computes; insufficient_quantity and disabled_source
# hold.
package ordergate.workflow.holds.inventory

# checked lists the line contexts stock matters for.
checked contains line if {
	input.context.routing_group != null
	some line in input.context.line_items
	line.sku != ""
	tracked(line)
}

tracked(line) if line.managed

tracked(_) if input.context.catalog.in_use == false

# short lists the checked lines the enabled sources cannot fill.
short contains line if {
	some line in checked
	line.available < line.quantity
}

# only_disabled lists the short lines that the group's disabled sources
# could fill: switching a source back on would release them.
only_disabled contains line if {
	some line in short
	line.available + line.available_disabled >= line.quantity
}

# in_line_order(lines) is a set of line contexts as an array in line order.
in_line_order(lines) := [l | some i in sort([l.index | some l in lines]); some l in lines; l.index == i]
