# Not managed item: hold an order with a line whose SKU is not in the
# catalog, or whose catalog item is not managed, or that has no SKU at all.
# A merchant that keeps no catalog in ordergate (an empty catalog) gets no
# such hold.
#
# Config: data.ordergate.config.not_managed_item.enabled
package ordergate.workflow.holds.not_managed_item

# unmanaged describes each line at fault, in line order.
unmanaged := [describe(line) | some line in input.context.line_items; not line.managed]

describe(line) := sprintf("line #%d has no SKU", [line.index + 1]) if line.sku == ""

describe(line) := sprintf("%s is not in the catalog", [line.sku]) if {
	line.sku != ""
	line.catalog == null
}

describe(line) := sprintf("%s is not managed", [line.sku]) if {
	line.catalog != null
	line.catalog.managed == false
}

holds contains {
	"reason": "not_managed_item",
	"rule": "not_managed_item",
	"message": concat("; ", unmanaged),
} if {
	data.ordergate.config.not_managed_item.enabled == true
	input.context.catalog.in_use == true
	count(unmanaged) > 0
}
