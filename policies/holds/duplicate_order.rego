# Duplicate order protection: hold an order that looks like one imported
# before it: the same shipping address and the same items in the same
# quantities, placed within the window, even under another order number or
# from another channel. Re-importing the same channel order id is not a
# duplicate: the host recognises it and creates nothing.
#
# The host finds the look-alikes when duplicate protection is on in its
# settings, which also set the window: input.context.duplicates.orders are
# the 10 most recent (oldest first; canceled orders are left out) and
# input.context.duplicates.count counts them all, up to 100 (count_capped
# is true when there are more).
#
# Config: data.ordergate.config.duplicate_order.enabled
package ordergate.workflow.holds.duplicate_order

# originals names each earlier look-alike listed, e.g. "01JD... (#1203 from shopify)".
originals := [sprintf("%s (%s from %s)", [d.id, d.number, d.channel_id]) | some d in input.context.duplicates.orders]

# unlisted counts the look-alikes beyond those listed.
unlisted := input.context.duplicates.count - count(originals)

# named lists the look-alikes, and says how many more there are.
named := concat(", ", originals) if unlisted <= 0

else := sprintf("%s and at least %d more", [concat(", ", originals), unlisted]) if input.context.duplicates.count_capped

else := sprintf("%s and %d more", [concat(", ", originals), unlisted])

# The message names the orders this one duplicates, so a release stays
# released until another look-alike arrives.
holds contains {
	"reason": "duplicate_order",
	"rule": "duplicate_order",
	"message": sprintf("looks like %s: same shipping address and items, placed within %s", [
		named,
		input.context.duplicates.window,
	]),
} if {
	data.ordergate.config.duplicate_order.enabled == true
	count(originals) > 0
}
