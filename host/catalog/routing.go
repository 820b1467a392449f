package catalog

import (
	"context"

	"github.com/ordergate/ordergate/host"
)

// CreateRoutingGroup creates a routing group.
func (s *Service) CreateRoutingGroup(ctx context.Context, req *host.RoutingGroupRequest) (*host.RoutingGroup, error) {
	if err := admin(ctx); err != nil {
		return nil, err
	}
	g, bad := req.Group("", s.now())
	if len(bad) > 0 {
		return nil, host.InvalidFields("the routing group is not valid", bad)
	}
	if err := s.store.CreateRoutingGroup(ctx, g); err != nil {
		return nil, err
	}
	return g, nil
}

// ReplaceRoutingGroup replaces a routing group (PUT).
func (s *Service) ReplaceRoutingGroup(ctx context.Context, id string, req *host.RoutingGroupRequest) (*host.RoutingGroup, error) {
	if err := admin(ctx); err != nil {
		return nil, err
	}
	g, bad := req.Group(id, s.now())
	if len(bad) > 0 {
		return nil, host.InvalidFields("the routing group is not valid", bad)
	}
	return s.store.UpdateRoutingGroup(ctx, id, func(cur *host.RoutingGroup) error {
		*cur = *g
		return nil
	})
}

// UpdateRoutingGroup changes a routing group (PATCH): fields left out
// stay, applied to the group as stored.
func (s *Service) UpdateRoutingGroup(ctx context.Context, id string, patch *host.RoutingGroupPatch) (*host.RoutingGroup, error) {
	if err := admin(ctx); err != nil {
		return nil, err
	}
	return s.store.UpdateRoutingGroup(ctx, id, func(g *host.RoutingGroup) error {
		if bad := patch.Apply(g); len(bad) > 0 {
			return host.InvalidFields("the routing group is not valid", bad)
		}
		g.UpdatedAt = s.now()
		return nil
	})
}

// DeleteRoutingGroup deletes a routing group.
func (s *Service) DeleteRoutingGroup(ctx context.Context, id string) error {
	if err := admin(ctx); err != nil {
		return err
	}
	return s.store.DeleteRoutingGroup(ctx, id)
}
