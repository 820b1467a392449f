package ordergate.workflow.international

import data.ordergate.testing

# A hold of this rule with the given message.
hold(message) := {"reason": "custom_rule", "rule": "hold_international", "message": message}

# Each case: the shipping country, and the holds and tags the rule must give
# with the shipped config (home_countries: ["US"]).
test_international[name] if {
	some name, tc in {
		"US is home": {"country": "US", "holds": set(), "tags": set()},
		"CA is abroad": {
			"country": "CA",
			"holds": {hold("order ships to CA, outside the home countries (US)")},
			"tags": {"International"},
		},
		"GB is abroad": {
			"country": "GB",
			"holds": {hold("order ships to GB, outside the home countries (US)")},
			"tags": {"International"},
		},
		"PR has its own code, so it is abroad": {
			"country": "PR",
			"holds": {hold("order ships to PR, outside the home countries (US)")},
			"tags": {"International"},
		},
	}
	inp := testing.input_for(testing.shipped_to(tc.country))
	holds == tc.holds with input as inp with data.ordergate.config as testing.config
	tags == tc.tags with input as inp with data.ordergate.config as testing.config
}

# Only the shipping address counts, not the billing address.
test_billing_address_abroad_is_not_international if {
	order := testing.order_with({"billing_address": object.union(testing.order_1203.billing_address, {"country": "DE"})})
	holds == set() with input as testing.input_for(order) with data.ordergate.config as testing.config
}

# billing_address may be absent.
test_without_billing_address if {
	order := object.remove(testing.shipped_to("MX"), {"billing_address"})
	tags == {"International"} with input as testing.input_for(order) with data.ordergate.config as testing.config
}

# Reference scenario: #1203 ships to the US and is not held by this rule.
test_reference_order_1203_is_domestic if {
	inp := testing.input_for(testing.order_1203)
	holds == set() with input as inp with data.ordergate.config as testing.config
	tags == set() with input as inp with data.ordergate.config as testing.config
}

test_disabled_gives_nothing if {
	inp := testing.input_for(testing.shipped_to("CA"))
	holds == set() with input as inp
		with data.ordergate.config as testing.config
		with data.ordergate.config.international.enabled as false
	tags == set() with input as inp
		with data.ordergate.config as testing.config
		with data.ordergate.config.international.enabled as false
}

test_several_home_countries if {
	home := ["US", "CA"]
	holds == set() with input as testing.input_for(testing.shipped_to("CA"))
		with data.ordergate.config as testing.config
		with data.ordergate.config.international.home_countries as home
	holds == {hold("order ships to MX, outside the home countries (US, CA)")} with input as testing.input_for(testing.shipped_to("MX"))
		with data.ordergate.config as testing.config
		with data.ordergate.config.international.home_countries as home
}
