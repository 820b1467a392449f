package bolt

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

func routingGroups(tx *bolt.Tx) ([]*host.RoutingGroup, error) {
	return listJSON[host.RoutingGroup](tx.Bucket(bucketRoutingGroups))
}

// CreateRoutingGroup implements host.CatalogStore.
func (d *DB) CreateRoutingGroup(ctx context.Context, g *host.RoutingGroup) error {
	err := d.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketRoutingGroups).Get([]byte(g.ID)) != nil {
			return host.Errorf(host.ECONFLICT, "routing group %s already exists", g.ID)
		}
		return storeRoutingGroup(tx, g)
	})
	if err != nil {
		return fmt.Errorf("storing routing group %s: %w", g.ID, err)
	}
	return nil
}

// UpdateRoutingGroup implements host.CatalogStore.
func (d *DB) UpdateRoutingGroup(ctx context.Context, id string, fn func(*host.RoutingGroup) error) (*host.RoutingGroup, error) {
	var out *host.RoutingGroup
	err := d.update(ctx, func(tx *bolt.Tx) error {
		g, err := getJSON[host.RoutingGroup](tx.Bucket(bucketRoutingGroups), id, fmt.Sprintf("routing group %s not found", id))
		if err != nil {
			return err
		}
		if err := fn(g); err != nil {
			return err
		}
		g.ID, out = id, g
		return storeRoutingGroup(tx, g)
	})
	if err != nil {
		return nil, fmt.Errorf("storing routing group %s: %w", id, err)
	}
	return out, nil
}

// storeRoutingGroup checks that a group's sources and channels fit and
// stores it, its channel links and its default mark. It checks all before
// it writes anything (see DB.update).
func storeRoutingGroup(tx *bolt.Tx, g *host.RoutingGroup) error {
	var bad []sdk.FieldError
	for i, s := range g.Sources {
		if tx.Bucket(bucketSources).Get([]byte(s.SourceID)) == nil {
			bad = append(bad, sdk.FieldError{Field: fmt.Sprintf("sources[%d].source_id", i), Detail: fmt.Sprintf("source %q does not exist", s.SourceID)})
		}
	}
	chans := tx.Bucket(bucketRoutingChannels)
	for i, c := range g.Channels {
		if tx.Bucket(bucketChannels).Get([]byte(c)) == nil {
			bad = append(bad, sdk.FieldError{Field: fmt.Sprintf("channels[%d]", i), Detail: fmt.Sprintf("channel %q does not exist", c)})
		} else if other := chans.Get([]byte(c)); other != nil && string(other) != g.ID {
			bad = append(bad, sdk.FieldError{Field: fmt.Sprintf("channels[%d]", i), Detail: fmt.Sprintf("channel %q is already in routing group %q", c, other)})
		}
	}
	if len(bad) > 0 {
		return host.InvalidFields("the routing group refers to what does not fit", bad)
	}
	meta := tx.Bucket(bucketSettings)
	if def := meta.Get(keyDefaultGroup); g.Default && def != nil && string(def) != g.ID {
		return host.InvalidFields("only one routing group can be the default",
			[]sdk.FieldError{{Field: "default", Detail: fmt.Sprintf("routing group %q is the default already", def)}})
	}
	if err := unlinkGroup(tx, g.ID); err != nil {
		return err
	}
	for _, c := range g.Channels {
		if err := chans.Put([]byte(c), []byte(g.ID)); err != nil {
			return err
		}
	}
	if g.Default {
		if err := meta.Put(keyDefaultGroup, []byte(g.ID)); err != nil {
			return err
		}
	}
	return putJSON(tx.Bucket(bucketRoutingGroups), g.ID, g)
}

// unlinkGroup removes the channel links and default mark of group id.
func unlinkGroup(tx *bolt.Tx, id string) error {
	old, err := getJSON[host.RoutingGroup](tx.Bucket(bucketRoutingGroups), id, "")
	if err != nil {
		return nil // a new group
	}
	for _, c := range old.Channels {
		if err := tx.Bucket(bucketRoutingChannels).Delete([]byte(c)); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketSettings)
	if string(meta.Get(keyDefaultGroup)) == id {
		return meta.Delete(keyDefaultGroup)
	}
	return nil
}

// RoutingGroup implements host.CatalogStore.
func (d *DB) RoutingGroup(_ context.Context, id string) (g *host.RoutingGroup, err error) {
	err = d.view(func(tx *bolt.Tx) error {
		g, err = getJSON[host.RoutingGroup](tx.Bucket(bucketRoutingGroups), id, fmt.Sprintf("routing group %s not found", id))
		return err
	})
	return g, err
}

// RoutingGroups implements host.CatalogStore.
func (d *DB) RoutingGroups(_ context.Context) (gs []*host.RoutingGroup, err error) {
	err = d.view(func(tx *bolt.Tx) error {
		gs, err = routingGroups(tx)
		return err
	})
	return gs, err
}

// DeleteRoutingGroup implements host.CatalogStore.
func (d *DB) DeleteRoutingGroup(ctx context.Context, id string) error {
	return d.update(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketRoutingGroups).Get([]byte(id)) == nil {
			return host.Errorf(host.ENOTFOUND, "routing group %s not found", id)
		}
		if err := unlinkGroup(tx, id); err != nil {
			return err
		}
		return tx.Bucket(bucketRoutingGroups).Delete([]byte(id))
	})
}
