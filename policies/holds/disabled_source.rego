# Disabled source: hold an order with a line that only disabled sources of
# its routing group could fill: switched off in the group, or disabled as a
# source. Enabling the source (or adding stock elsewhere) and re-evaluating
# clears the hold.
#
# Config: data.ordergate.config.disabled_source.enabled
package ordergate.workflow.holds.disabled_source

import data.ordergate.workflow.holds.inventory

# describe names a line and the disabled sources that have its stock.
describe(line) := sprintf("%s wanted %d, available %d; %s", [
	line.sku, line.quantity, line.available,
	concat(", ", [sprintf("%s has %d but is disabled %s", [s.id, s.available, where(s)]) |
		some s in line.sources
		not s.enabled
		s.available > 0
	]),
])

where(s) := "in the routing group" if s.disabled_by == "group"

where(s) := "as a source" if s.disabled_by == "source"

holds contains {
	"reason": "disabled_source",
	"rule": "disabled_source",
	"message": sprintf("only disabled sources of routing group %s could fill: %s", [
		input.context.routing_group.id,
		concat("; ", [describe(l) | some l in inventory.in_line_order(inventory.only_disabled)]),
	]),
} if {
	data.ordergate.config.disabled_source.enabled == true
	count(inventory.only_disabled) > 0
}
