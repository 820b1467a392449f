package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// CreateRoutingGroup implements host.CatalogStore.
func (d *DB) CreateRoutingGroup(ctx context.Context, g *host.RoutingGroup) error {
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, lockConfig); err != nil {
			return err
		}
		if ok, err := exists(ctx, tx, `SELECT 1 FROM routing_groups WHERE id = $1`, g.ID); err != nil || ok {
			if err == nil {
				err = host.Errorf(host.ECONFLICT, "routing group %s already exists", g.ID)
			}
			return err
		}
		return storeRoutingGroup(ctx, tx, g)
	})
	if err != nil {
		return fmt.Errorf("storing routing group %s: %w", g.ID, err)
	}
	return nil
}

// UpdateRoutingGroup implements host.CatalogStore.
func (d *DB) UpdateRoutingGroup(ctx context.Context, id string, fn func(*host.RoutingGroup) error) (*host.RoutingGroup, error) {
	var out *host.RoutingGroup
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, lockConfig); err != nil {
			return err
		}
		g, err := getJSON[host.RoutingGroup](ctx, tx, fmt.Sprintf("routing group %s not found", id), `SELECT data FROM routing_groups WHERE id = $1 FOR UPDATE`, id)
		if err != nil {
			return err
		}
		if err := fn(g); err != nil {
			return err
		}
		g.ID, out = id, g
		return storeRoutingGroup(ctx, tx, g)
	})
	if err != nil {
		return nil, fmt.Errorf("storing routing group %s: %w", id, err)
	}
	return out, nil
}

// storeRoutingGroup checks that what a group names exists and fits, and
// stores it with its channel and source links. The caller holds
// lockConfig, so nothing it checks changes before it commits.
func storeRoutingGroup(ctx context.Context, tx pgx.Tx, g *host.RoutingGroup) error {
	var bad []sdk.FieldError
	for i, s := range g.Sources {
		if ok, err := exists(ctx, tx, `SELECT 1 FROM sources WHERE id = $1`, s.SourceID); err != nil {
			return err
		} else if !ok {
			bad = append(bad, sdk.FieldError{Field: fmt.Sprintf("sources[%d].source_id", i), Detail: fmt.Sprintf("source %q does not exist", s.SourceID)})
		}
	}
	for i, c := range g.Channels {
		var other string
		err := tx.QueryRow(ctx, `SELECT coalesce((SELECT group_id FROM routing_channels WHERE channel_id = c.id), '') FROM channels c WHERE c.id = $1`, c).Scan(&other)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			bad = append(bad, sdk.FieldError{Field: fmt.Sprintf("channels[%d]", i), Detail: fmt.Sprintf("channel %q does not exist", c)})
		case err != nil:
			return err
		case other != "" && other != g.ID:
			bad = append(bad, sdk.FieldError{Field: fmt.Sprintf("channels[%d]", i), Detail: fmt.Sprintf("channel %q is already in routing group %q", c, other)})
		}
	}
	if len(bad) > 0 {
		return host.InvalidFields("the routing group refers to what does not fit", bad)
	}
	if g.Default {
		var def string
		err := tx.QueryRow(ctx, `SELECT id FROM routing_groups WHERE is_default AND id <> $1`, g.ID).Scan(&def)
		if err == nil {
			return host.InvalidFields("only one routing group can be the default",
				[]sdk.FieldError{{Field: "default", Detail: fmt.Sprintf("routing group %q is the default already", def)}})
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
	}
	data, err := jsonText(g)
	if err != nil {
		return err
	}
	channels := g.Channels
	if channels == nil {
		channels = []string{}
	}
	sources := make([]string, len(g.Sources))
	for i, s := range g.Sources {
		sources[i] = s.SourceID
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO routing_groups (id, is_default, data) VALUES ($1, $2, $3::jsonb)
		ON CONFLICT (id) DO UPDATE SET is_default = EXCLUDED.is_default, data = EXCLUDED.data`, g.ID, g.Default, data)
	b.Queue(`DELETE FROM routing_channels WHERE group_id = $1`, g.ID)
	b.Queue(`DELETE FROM routing_sources WHERE group_id = $1`, g.ID)
	b.Queue(`INSERT INTO routing_channels (channel_id, group_id) SELECT c, $1 FROM unnest($2::text[]) AS u(c) ON CONFLICT DO NOTHING`, g.ID, channels)
	b.Queue(`INSERT INTO routing_sources (group_id, source_id) SELECT $1, s FROM unnest($2::text[]) AS u(s) ON CONFLICT DO NOTHING`, g.ID, sources)
	return tx.SendBatch(ctx, b).Close()
}

// RoutingGroup implements host.CatalogStore.
func (d *DB) RoutingGroup(ctx context.Context, id string) (*host.RoutingGroup, error) {
	return getJSON[host.RoutingGroup](ctx, d.q, fmt.Sprintf("routing group %s not found", id), `SELECT data FROM routing_groups WHERE id = $1`, id)
}

// RoutingGroups implements host.CatalogStore.
func (d *DB) RoutingGroups(ctx context.Context) ([]*host.RoutingGroup, error) {
	return listJSON[host.RoutingGroup](ctx, d.q, `SELECT data FROM routing_groups ORDER BY id`)
}

// DeleteRoutingGroup implements host.CatalogStore; its links go by
// cascade.
func (d *DB) DeleteRoutingGroup(ctx context.Context, id string) error {
	return d.inTx(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, lockConfig); err != nil {
			return err
		}
		return deleteRow(ctx, tx, fmt.Sprintf("routing group %s not found", id), `DELETE FROM routing_groups WHERE id = $1`, id)
	})
}
