# Unmapped shipping policy: hold an order whose shipping method has no
# mapping to a shipping policy for its channel. A channel without any
# mapping is not checked: map one method and every method of the channel
# must be mapped.
#
# Config: data.ordergate.config.unmapped_shipping_policy.enabled
package ordergate.workflow.holds.unmapped_shipping_policy

message := sprintf("shipping method %q has no shipping policy mapping for channel %s", [
	input.context.shipping.method,
	input.channel.id,
]) if input.context.shipping.method != ""

else := sprintf("the order has no shipping method and channel %s maps its methods to shipping policies", [input.channel.id])

holds contains {
	"reason": "unmapped_shipping_policy",
	"rule": "unmapped_shipping_policy",
	"message": message,
} if {
	data.ordergate.config.unmapped_shipping_policy.enabled == true
	input.context.shipping.channel_has_mappings == true
	input.context.shipping.mapped == false
}
