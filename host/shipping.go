package host

import (
	"fmt"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

// ShippingMappings maps a channel's shipping methods (as the channel names
// them on orders) to the merchant's shipping policies. The built-in
// unmapped_shipping_policy rule holds orders of a channel that has
// mappings when their shipping method has none.
type ShippingMappings struct {
	ChannelID string            `json:"channel_id"`
	Methods   map[string]string `json:"methods"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// Validate checks shipping mappings.
func (m *ShippingMappings) Validate() []sdk.FieldError {
	var errs []sdk.FieldError
	if len(m.Methods) > MaxShippingMethods {
		return []sdk.FieldError{{Field: "methods", Detail: fmt.Sprintf("has %d methods; a channel maps at most %d", len(m.Methods), MaxShippingMethods)}}
	}
	for method, pol := range m.Methods {
		field := fmt.Sprintf("methods[%q]", method)
		if d := checkName(method, true); d != "" {
			errs = append(errs, sdk.FieldError{Field: field, Detail: "the shipping method " + d})
		}
		if d := checkName(pol, true); d != "" {
			errs = append(errs, sdk.FieldError{Field: field, Detail: "the shipping policy " + d})
		}
	}
	return errs
}
