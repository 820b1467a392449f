package catalog

import (
	"context"

	"github.com/ordergate/ordergate/host"
)

// UpdateSettings changes the settings as the patch says, applied to the
// settings as stored.
func (s *Service) UpdateSettings(ctx context.Context, patch *host.SettingsPatch) (host.Settings, error) {
	if err := admin(ctx); err != nil {
		return host.Settings{}, err
	}
	return s.store.UpdateSettings(ctx, func(st *host.Settings) error {
		if bad := patch.Apply(st); len(bad) > 0 {
			return host.InvalidFields("the settings are not valid", bad)
		}
		st.UpdatedAt = s.now()
		return nil
	})
}
