package catalog

import (
	"context"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// PutShippingMappings replaces a channel's shipping method to shipping
// policy mappings (an empty map removes every mapping).
func (s *Service) PutShippingMappings(ctx context.Context, channelID string, methods map[string]string) (*host.ShippingMappings, error) {
	if err := admin(ctx); err != nil {
		return nil, err
	}
	if methods == nil {
		return nil, host.InvalidFields("the shipping mappings are not valid", []sdk.FieldError{{Field: "methods", Detail: "is required (an empty object removes every mapping)"}})
	}
	m := &host.ShippingMappings{ChannelID: channelID, Methods: methods, UpdatedAt: s.now()}
	if bad := m.Validate(); len(bad) > 0 {
		return nil, host.InvalidFields("the shipping mappings are not valid", bad)
	}
	if err := s.store.PutShippingMappings(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}
