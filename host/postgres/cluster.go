package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordergate/ordergate/host"
)

// interval is a duration as a PostgreSQL interval parameter.
func interval(d time.Duration) string { return fmt.Sprintf("%d microseconds", d.Microseconds()) }

// Heartbeat implements host.ClusterStore.
func (d *DB) Heartbeat(ctx context.Context, m host.Member) error {
	_, err := d.q.Exec(ctx, `INSERT INTO hosts (id, pid, addr, version, revision, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6, now())
		ON CONFLICT (id) DO UPDATE SET addr = EXCLUDED.addr, revision = EXCLUDED.revision, heartbeat_at = now()`,
		m.ID, m.PID, m.Addr, m.Version, m.Revision, m.StartedAt)
	if err != nil {
		return fmt.Errorf("recording the host's heartbeat: %w", err)
	}
	return nil
}

// Leave implements host.ClusterStore.
func (d *DB) Leave(ctx context.Context, hostID string) error {
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM channel_leases WHERE holder = $1`, hostID)
	b.Queue(`DELETE FROM hosts WHERE id = $1`, hostID)
	return d.inTx(ctx, func(tx pgx.Tx) error { return tx.SendBatch(ctx, b).Close() })
}

// Members implements host.ClusterStore. Rows of hosts dead for ten TTLs
// are removed on the way.
func (d *DB) Members(ctx context.Context, ttl time.Duration) ([]host.Member, error) {
	if _, err := d.q.Exec(ctx, `DELETE FROM hosts WHERE heartbeat_at < now() - $1::interval`, interval(10*ttl)); err != nil {
		return nil, err
	}
	rows, err := d.q.Query(ctx, `SELECT h.id, h.pid, h.addr, h.version, h.revision, h.started_at, h.heartbeat_at,
			coalesce(array_agg(l.channel_id ORDER BY l.channel_id) FILTER (WHERE l.channel_id IS NOT NULL), '{}')
		FROM hosts h LEFT JOIN channel_leases l ON l.holder = h.id AND l.expires_at > now()
		WHERE h.heartbeat_at > now() - $1::interval
		GROUP BY h.id ORDER BY h.started_at, h.id`, interval(ttl))
	if err != nil {
		return nil, fmt.Errorf("listing hosts: %w", err)
	}
	var out []host.Member
	var m host.Member
	_, err = pgx.ForEachRow(rows, []any{&m.ID, &m.PID, &m.Addr, &m.Version, &m.Revision, &m.StartedAt, &m.HeartbeatAt, &m.Leases}, func() error {
		m.StartedAt, m.HeartbeatAt = m.StartedAt.UTC(), m.HeartbeatAt.UTC()
		out = append(out, m)
		return nil
	})
	return out, err
}

// RenewLeases implements host.ClusterStore: only leases not yet expired
// are renewed, so a host that missed its renewals (paused, cut off)
// finds its leases gone once another host may have taken them.
func (d *DB) RenewLeases(ctx context.Context, hostID string, ttl time.Duration) ([]host.HeldLease, error) {
	rows, err := d.q.Query(ctx, `UPDATE channel_leases l SET expires_at = now() + $2::interval, import_requested = false
		FROM (SELECT channel_id, import_requested FROM channel_leases WHERE holder = $1 AND expires_at > now() FOR UPDATE) old
		WHERE l.channel_id = old.channel_id
		RETURNING l.channel_id, l.epoch, old.import_requested`, hostID, interval(ttl))
	if err != nil {
		return nil, fmt.Errorf("renewing leases: %w", err)
	}
	var out []host.HeldLease
	var l host.HeldLease
	l.Holder = hostID
	_, err = pgx.ForEachRow(rows, []any{&l.ChannelID, &l.Epoch, &l.ImportRequested}, func() error {
		out = append(out, l)
		return nil
	})
	return out, err
}

// AcquireLeases implements host.ClusterStore.
func (d *DB) AcquireLeases(ctx context.Context, hostID string, channels []string, max int, ttl time.Duration) ([]host.Lease, error) {
	if max <= 0 || len(channels) == 0 {
		return nil, nil
	}
	// A new lease starts at epoch 1; a taken-over one at the next epoch.
	rows, err := d.q.Query(ctx, `WITH free AS (
			SELECT c AS channel_id FROM unnest($2::text[]) AS u(c)
			WHERE NOT EXISTS (SELECT 1 FROM channel_leases l WHERE l.channel_id = u.c AND l.expires_at > now())
			ORDER BY c LIMIT $3)
		INSERT INTO channel_leases (channel_id, holder, epoch, expires_at) SELECT channel_id, $1, 1, now() + $4::interval FROM free
		ON CONFLICT (channel_id) DO UPDATE SET holder = EXCLUDED.holder, epoch = channel_leases.epoch + 1,
			expires_at = EXCLUDED.expires_at, import_requested = false
		WHERE channel_leases.expires_at <= now()
		RETURNING channel_id, epoch`, hostID, channels, max, interval(ttl))
	if err != nil {
		return nil, fmt.Errorf("acquiring leases: %w", err)
	}
	var out []host.Lease
	l := host.Lease{Holder: hostID}
	_, err = pgx.ForEachRow(rows, []any{&l.ChannelID, &l.Epoch}, func() error {
		out = append(out, l)
		return nil
	})
	return out, err
}

// ReleaseLease implements host.ClusterStore.
func (d *DB) ReleaseLease(ctx context.Context, l host.Lease) error {
	_, err := d.q.Exec(ctx, `DELETE FROM channel_leases WHERE channel_id = $1 AND holder = $2 AND epoch = $3`, l.ChannelID, l.Holder, l.Epoch)
	return err
}

// RequestImport implements host.ClusterStore.
func (d *DB) RequestImport(ctx context.Context, channelID string) (string, error) {
	var holder string
	err := d.q.QueryRow(ctx, `UPDATE channel_leases SET import_requested = true WHERE channel_id = $1 AND expires_at > now() RETURNING holder`, channelID).Scan(&holder)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return holder, err
}

// queueLeaseCheck adds to a batch the check that fences an import page:
// the lease is held by its holder at its epoch and not expired. The row
// is locked (FOR SHARE) until the page commits, so a takeover waits for
// the page rather than the page landing after it.
func queueLeaseCheck(b *pgx.Batch, l *host.Lease, held *bool) {
	b.Queue(`SELECT 1 FROM channel_leases WHERE channel_id = $1 AND holder = $2 AND epoch = $3 AND expires_at > now() FOR SHARE`,
		l.ChannelID, l.Holder, l.Epoch).Query(func(rows pgx.Rows) error {
		var one int
		_, err := pgx.ForEachRow(rows, []any{&one}, func() error { *held = true; return nil })
		return err
	})
}

var _ host.ClusterStore = (*DB)(nil)
