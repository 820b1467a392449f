package ordergate.workflow.holds.unmapped_shipping_policy

import data.ordergate.testing

shipping(method, has, mapped) := testing.with_context(testing.input_for(testing.order_1203), {"shipping": {
	"method": method, "channel_has_mappings": has, "mapped": mapped, "policy": "",
}})

hold(message) := {"reason": "unmapped_shipping_policy", "rule": "unmapped_shipping_policy", "message": message}

test_shipping[name] if {
	some name, tc in {
		"a mapped method passes": {"input": shipping("Standard", true, true), "holds": set()},
		"a channel without mappings is not checked": {"input": shipping("Standard", false, false), "holds": set()},
		"an unmapped method is held": {
			"input": shipping("Overnight", true, false),
			"holds": {hold("shipping method \"Overnight\" has no shipping policy mapping for channel shopify")},
		},
		"no method at all is held": {
			"input": shipping("", true, false),
			"holds": {hold("the order has no shipping method and channel shopify maps its methods to shipping policies")},
		},
	}
	holds == tc.holds with input as tc.input with data.ordergate.config as testing.config
}

test_switched_off if {
	holds == set() with input as shipping("Overnight", true, false)
		with data.ordergate.config as testing.config
		with data.ordergate.config.unmapped_shipping_policy.enabled as false
}
