# Duplicate order protection: hold an order that looks like one imported
# before it: the same shipping address and the same items in the same
# quantities, placed within the window, even under another order number or
# from another channel. Re-importing the same channel order id is not a
# duplicate: the host recognises it and creates nothing.
#
# The host finds the look-alikes (input.context.duplicates.orders, oldest
# first; canceled orders are left out) when duplicate protection is on in
# its settings, which also set the window.
#
# Config: data.ordergate.config.duplicate_order.enabled
package ordergate.workflow.holds.duplicate_order

# originals names each earlier look-alike, e.g. "01JD... (#1203 from shopify)".
originals := [sprintf("%s (%s from %s)", [d.id, d.number, d.channel_id]) | some d in input.context.duplicates.orders]

# The message names the orders this one duplicates, so a release stays
# released until another look-alike arrives.
holds contains {
	"reason": "duplicate_order",
	"rule": "duplicate_order",
	"message": sprintf("looks like %s: same shipping address and items, placed within %s", [
		concat(", ", originals),
		input.context.duplicates.window,
	]),
} if {
	data.ordergate.config.duplicate_order.enabled == true
	count(originals) > 0
}
