package catalog

import (
	"context"

	"github.com/ordergate/ordergate/host"
)

// CreateSource creates a source.
func (s *Service) CreateSource(ctx context.Context, req *host.SourceRequest) (*host.Source, error) {
	if err := admin(ctx); err != nil {
		return nil, err
	}
	src, bad := req.Source(s.now())
	if len(bad) > 0 {
		return nil, host.InvalidFields("the source is not valid", bad)
	}
	if err := s.store.CreateSource(ctx, src); err != nil {
		return nil, err
	}
	return src, nil
}

// UpdateSource renames, enables or disables a source.
func (s *Service) UpdateSource(ctx context.Context, id string, patch *host.SourcePatch) (*host.Source, error) {
	if err := admin(ctx); err != nil {
		return nil, err
	}
	return s.store.UpdateSource(ctx, id, func(src *host.Source) error {
		if bad := patch.Apply(src); len(bad) > 0 {
			return host.InvalidFields("the source is not valid", bad)
		}
		src.UpdatedAt = s.now()
		return nil
	})
}

// DeleteSource deletes a source and its stock; refused while a routing
// group lists it.
func (s *Service) DeleteSource(ctx context.Context, id string) error {
	if err := admin(ctx); err != nil {
		return err
	}
	return s.store.DeleteSource(ctx, id)
}
