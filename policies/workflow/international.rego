# International: hold orders shipped outside the home countries (customs
# paperwork, carrier choice) and tag them.
#
# Config: data.ordergate.config.international
#   enabled         the rule runs only when this is true
#   home_countries  ISO 3166-1 alpha-2 codes, upper case, e.g. ["US"]; an
#                   order shipped to any other country is international
#   tag             tag to add (default "International")
package ordergate.workflow.international

# international holds when the rule is on and the order ships abroad.
international if {
	data.ordergate.config.international.enabled == true
	not input.order.shipping_address.country in data.ordergate.config.international.home_countries
}

# Hold the order. The message names the destination and the home countries.
holds contains {
	"reason": "custom_rule",
	"rule": "hold_international",
	"message": sprintf("order ships to %s, outside the home countries (%s)", [
		input.order.shipping_address.country,
		concat(", ", data.ordergate.config.international.home_countries),
	]),
} if international

# Tag the order.
tags contains data.ordergate.config.international.tag if international
