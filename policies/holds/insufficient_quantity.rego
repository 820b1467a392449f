# Insufficient quantity: hold an order with a line that the enabled sources
# of its routing group do not have enough stock for. When only disabled
# sources could fill a line, the disabled_source hold says so instead
# (unless that reason is switched off).
#
# Config: data.ordergate.config.insufficient_quantity.enabled
package ordergate.workflow.holds.insufficient_quantity

import data.ordergate.workflow.holds.inventory

# lines the hold is about: short, and not explained by a disabled source.
lines contains line if {
	some line in inventory.short
	not explained_by_disabled_source(line)
}

explained_by_disabled_source(line) if {
	data.ordergate.config.disabled_source.enabled == true
	line in inventory.only_disabled
}

# The message names SKU, wanted and available per line, in line order, so
# a released hold comes back only when the stock picture changes.
holds contains {
	"reason": "insufficient_quantity",
	"rule": "insufficient_quantity",
	"message": sprintf("not enough stock in routing group %s: %s", [
		input.context.routing_group.id,
		concat("; ", [sprintf("%s wanted %d, available %d", [l.sku, l.quantity, l.available]) |
			some l in inventory.in_line_order(lines)
		]),
	]),
} if {
	data.ordergate.config.insufficient_quantity.enabled == true
	count(lines) > 0
}
