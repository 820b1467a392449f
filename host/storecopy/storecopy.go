// Package storecopy copies a host's bbolt store into an empty PostgreSQL
// one (`ordergate migrate`) and checks the copy: the same count and
// checksum in both stores for every kind of record. Everything keeps its
// id, status, tags, holds, timeline and times; no timeline entry is
// added, and API keys keep working (their hashes are copied), as do
// console users' passwords. Console sessions are not copied: they are
// transient, and a moved store signs everyone in again.
//
// A copy goes through the store contract, so what the target does with
// a record is what it does in service (indexes, counts, sealing secrets
// with the target host's key). A target that is not empty is compared
// with the source: when they agree the copy is done already and nothing
// happens; otherwise it is refused, and nothing is ever written twice.
package storecopy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/bolt"
)

// Source is a store to copy from: the contract, and what it does not
// hand out (bolt.DB).
type Source interface {
	host.Store
	KeysWithHashes(ctx context.Context) ([]*host.APIKey, error)
	IdempotencyRecords(ctx context.Context) (map[string]bolt.IdempotencyRecord, error)
}

// Table is the count and checksum of one kind of record in a store.
type Table struct {
	Name     string
	Count    int
	Checksum string
}

// Report is what a copy found and did.
type Report struct {
	// Already is true when the target held the same data (a re-run):
	// nothing was written.
	Already bool
	// Tables are the source's tables, which the target matches.
	Tables []Table
}

// ErrNotEmpty refuses a copy into a store that holds other data.
var ErrNotEmpty = errors.New("the target store is not empty and does not hold a copy of the source: migrate copies into an empty database only (create a new one, or drop this one's tables)")

// Copy copies from into to, which must be empty (or hold exactly this
// copy already), then verifies the copy. progress, when not nil, is told
// of each kind as it is copied.
func Copy(ctx context.Context, from Source, to host.Store, progress io.Writer) (Report, error) {
	src, err := Tables(ctx, from)
	if err != nil {
		return Report{}, fmt.Errorf("reading the source: %w", err)
	}
	dst, err := Tables(ctx, to)
	if err != nil {
		return Report{}, fmt.Errorf("reading the target: %w", err)
	}
	if !empty(dst) {
		if slices.Equal(src, dst) {
			return Report{Already: true, Tables: src}, nil
		}
		return Report{}, ErrNotEmpty
	}
	c := &copier{from: from, to: to, progress: progress}
	for _, step := range []struct {
		what string
		run  func(ctx context.Context) (int, error)
	}{
		{"settings", c.settings},
		{"sources", c.sources},
		{"catalog items", c.catalog},
		{"stock levels", c.stock},
		{"channels", c.channels},
		{"shipping mappings", c.shipping},
		{"routing groups", c.routing},
		{"API keys", c.keys},
		{"users", c.users},
		{"rule hits", c.ruleHits},
		{"alert destinations", c.destinations},
		{"alert deliveries", c.deliveries},
		{"orders", c.orders},
		{"cursors and import runs", c.runs},
	} {
		n, err := step.run(ctx)
		if err != nil {
			return Report{}, fmt.Errorf("copying %s: %w", step.what, err)
		}
		if progress != nil {
			fmt.Fprintf(progress, "copied %d %s\n", n, step.what)
		}
	}
	dst, err = Tables(ctx, to)
	if err != nil {
		return Report{}, fmt.Errorf("reading the copy: %w", err)
	}
	for i := range src {
		if src[i] != dst[i] {
			return Report{}, fmt.Errorf("the copy differs from the source in %s: %d records (checksum %s) copied as %d (checksum %s)",
				src[i].Name, src[i].Count, src[i].Checksum, dst[i].Count, dst[i].Checksum)
		}
	}
	return Report{Tables: src}, nil
}

func empty(tables []Table) bool {
	for _, t := range tables {
		if t.Count > 0 && t.Name != "settings" {
			return false
		}
	}
	return true
}

type copier struct {
	from     Source
	to       host.Store
	progress io.Writer
}

func (c *copier) settings(ctx context.Context) (int, error) {
	s, err := c.from.Settings(ctx)
	if err != nil {
		return 0, err
	}
	_, err = c.to.UpdateSettings(ctx, func(t *host.Settings) error { *t = s; return nil })
	return 1, err
}

func (c *copier) sources(ctx context.Context) (int, error) {
	list, err := c.from.Sources(ctx)
	for _, s := range list {
		if err == nil {
			err = c.to.CreateSource(ctx, s)
		}
	}
	return len(list), err
}

func (c *copier) catalog(ctx context.Context) (int, error) {
	n := 0
	for after := ""; ; {
		items, next, err := c.from.CatalogItems(ctx, after, 1000)
		if err != nil {
			return n, err
		}
		if len(items) > 0 {
			if err := c.to.PutCatalogItems(ctx, items); err != nil {
				return n, err
			}
		}
		n += len(items)
		if next == "" {
			return n, nil
		}
		after = next
	}
}

// stock copies the levels of each source, each with its own updated_at
// (levels are applied per upload time, which they share).
func (c *copier) stock(ctx context.Context) (int, error) {
	sources, err := c.from.Sources(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range sources {
		levels, err := allLevels(ctx, c.from, s.ID)
		if err != nil {
			return n, err
		}
		byTime := map[time.Time][]host.StockLevel{}
		for _, l := range levels {
			byTime[l.UpdatedAt] = append(byTime[l.UpdatedAt], l)
		}
		for at, ls := range byTime {
			if _, err := c.to.SetInventory(ctx, ls, host.InventoryMerge, at); err != nil {
				return n, err
			}
		}
		n += len(levels)
	}
	return n, nil
}

func allLevels(ctx context.Context, s host.Store, source string) ([]host.StockLevel, error) {
	var out []host.StockLevel
	for after := ""; ; {
		page, next, err := s.Inventory(ctx, source, "", after, 1000)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		after = next
	}
}

func (c *copier) channels(ctx context.Context) (int, error) {
	list, err := c.from.Channels(ctx)
	for _, ch := range list {
		if err == nil {
			err = c.to.CreateChannel(ctx, ch)
		}
	}
	return len(list), err
}

func (c *copier) shipping(ctx context.Context) (int, error) {
	list, err := c.from.Channels(ctx)
	n := 0
	for _, ch := range list {
		if err != nil {
			break
		}
		var m *host.ShippingMappings
		if m, err = c.from.ShippingMappings(ctx, ch.ID); err == nil && (len(m.Methods) > 0 || !m.UpdatedAt.IsZero()) {
			err = c.to.PutShippingMappings(ctx, m)
			n++
		}
	}
	return n, err
}

func (c *copier) routing(ctx context.Context) (int, error) {
	list, err := c.from.RoutingGroups(ctx)
	for _, g := range list {
		if err == nil {
			err = c.to.CreateRoutingGroup(ctx, g)
		}
	}
	return len(list), err
}

func (c *copier) keys(ctx context.Context) (int, error) {
	list, err := c.from.KeysWithHashes(ctx)
	for _, k := range list {
		if err == nil {
			err = c.to.CreateKey(ctx, k)
		}
	}
	return len(list), err
}

// users copies the console users with their password hashes (the
// contract hands them out). Their sessions are not copied: they are
// transient, and everyone signs in again on the moved store.
func (c *copier) users(ctx context.Context) (int, error) {
	list, err := c.from.Users(ctx)
	for _, u := range list {
		if err == nil {
			err = c.to.CreateUser(ctx, u)
		}
	}
	return len(list), err
}

// ruleHitChunk is how many rule hits one AddRuleHits of a copy adds.
const ruleHitChunk = 1000

// ruleHits copies the hourly rule hit counts, every hour kept.
func (c *copier) ruleHits(ctx context.Context) (int, error) {
	list, err := c.from.RuleHits(ctx, time.Time{})
	if err != nil {
		return 0, err
	}
	for chunk := range slices.Chunk(list, ruleHitChunk) {
		if err := c.to.AddRuleHits(ctx, chunk); err != nil {
			return 0, err
		}
	}
	return len(list), nil
}

func (c *copier) destinations(ctx context.Context) (int, error) {
	list, err := c.from.Destinations(ctx)
	for _, d := range list {
		if err == nil {
			err = c.to.CreateDestination(ctx, d)
		}
	}
	return len(list), err
}

// deliveries copies every alert delivery, in every state, before the
// orders: the deliveries the target would make for the orders' alerts
// have these ids and are then skipped.
func (c *copier) deliveries(ctx context.Context) (int, error) {
	n := 0
	for after := ""; ; {
		page, next, err := c.from.ListDeliveries(ctx, host.DeliveryFilter{After: after, Limit: 1000})
		if err != nil {
			return n, err
		}
		if len(page) > 0 {
			if err := c.to.Enqueue(ctx, page...); err != nil {
				return n, err
			}
		}
		n += len(page)
		if next == "" {
			return n, nil
		}
		after = next
	}
}

func (c *copier) orders(ctx context.Context) (int, error) {
	idem, err := c.from.IdempotencyRecords(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for after := ""; ; {
		page, next, err := c.from.ListOrders(ctx, host.OrderFilter{After: after, Limit: 500})
		if err != nil {
			return n, err
		}
		batch := make([]host.NewOrder, len(page))
		for i, r := range page {
			batch[i] = host.NewOrder{Record: r, Copied: true}
			if rec, ok := idem[r.ID]; ok {
				batch[i].IdempotencyKey, batch[i].RequestHash = rec.Key, rec.RequestHash
			}
		}
		if len(batch) > 0 {
			res, err := c.to.CreateOrders(ctx, batch)
			if err != nil {
				return n, err
			}
			for i, r := range res {
				if r.Err != nil || !r.Created {
					return n, fmt.Errorf("order %s was not created: %v", page[i].ID, r.Err)
				}
			}
		}
		n += len(page)
		if next == "" {
			return n, nil
		}
		after = next
	}
}

func (c *copier) runs(ctx context.Context) (int, error) {
	list, err := c.from.Channels(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ch := range list {
		cur, err := c.from.Cursor(ctx, ch.ID)
		if err != nil {
			return n, err
		}
		if cur != "" {
			if err := c.to.SaveCursor(ctx, ch.ID, cur); err != nil {
				return n, err
			}
		}
		runs, err := c.from.Runs(ctx, ch.ID, host.MaxRunsKept)
		if err != nil {
			return n, err
		}
		for i := len(runs) - 1; i >= 0; i-- { // oldest first, as they were made
			if err := c.to.PutRun(ctx, runs[i]); err != nil {
				return n, err
			}
		}
		n += len(runs)
	}
	return n, nil
}

// Tables reads every kind of record of a store and returns its count and
// checksum (SHA-256 of the records' JSON in a fixed order; times to the
// microsecond, as PostgreSQL keeps them).
func Tables(ctx context.Context, s host.Store) ([]Table, error) {
	var out []Table
	add := func(name string, records []any) error {
		h := sha256.New()
		for _, r := range records {
			data, err := json.Marshal(r)
			if err != nil {
				return err
			}
			h.Write(data)
			h.Write([]byte{'\n'})
		}
		out = append(out, Table{Name: name, Count: len(records), Checksum: hex.EncodeToString(h.Sum(nil)[:8])})
		return nil
	}

	settings, err := s.Settings(ctx)
	if err != nil {
		return nil, err
	}
	if err := add("settings", []any{settings}); err != nil {
		return nil, err
	}
	sources, err := s.Sources(ctx)
	if err != nil {
		return nil, err
	}
	sort.Slice(sources, func(i, j int) bool { return sources[i].ID < sources[j].ID })
	if err := add("sources", anys(sources)); err != nil {
		return nil, err
	}
	var items []any
	for after := ""; ; {
		page, next, err := s.CatalogItems(ctx, after, 1000)
		if err != nil {
			return nil, err
		}
		items = append(items, anys(page)...)
		if next == "" {
			break
		}
		after = next
	}
	if err := add("catalog_items", items); err != nil {
		return nil, err
	}
	var stock []any
	for _, src := range sources {
		levels, err := allLevels(ctx, s, src.ID)
		if err != nil {
			return nil, err
		}
		for _, l := range levels {
			l.UpdatedAt = l.UpdatedAt.Truncate(time.Microsecond).UTC()
			stock = append(stock, l)
		}
	}
	if err := add("stock", stock); err != nil {
		return nil, err
	}
	channels, err := s.Channels(ctx)
	if err != nil {
		return nil, err
	}
	sort.Slice(channels, func(i, j int) bool { return channels[i].ID < channels[j].ID })
	if err := add("channels", anys(channels)); err != nil {
		return nil, err
	}
	var shipping, cursors, runs []any
	for _, ch := range channels {
		m, err := s.ShippingMappings(ctx, ch.ID)
		if err != nil {
			return nil, err
		}
		if len(m.Methods) > 0 || !m.UpdatedAt.IsZero() {
			shipping = append(shipping, m)
		}
		cur, err := s.Cursor(ctx, ch.ID)
		if err != nil {
			return nil, err
		}
		if cur != "" {
			cursors = append(cursors, [2]string{ch.ID, cur})
		}
		rs, err := s.Runs(ctx, ch.ID, host.MaxRunsKept)
		if err != nil {
			return nil, err
		}
		runs = append(runs, anys(rs)...)
	}
	groups, err := s.RoutingGroups(ctx)
	if err != nil {
		return nil, err
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i].ID < groups[j].ID })
	keys, err := s.Keys(ctx)
	if err != nil {
		return nil, err
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ID < keys[j].ID })
	dests, err := s.Destinations(ctx)
	if err != nil {
		return nil, err
	}
	sort.Slice(dests, func(i, j int) bool { return dests[i].Name < dests[j].Name })
	// Users with their password hashes (which a user's JSON leaves out),
	// so that the check covers them. Sessions are not counted: they are
	// not copied.
	userList, err := s.Users(ctx)
	if err != nil {
		return nil, err
	}
	sort.Slice(userList, func(i, j int) bool { return userList[i].Username < userList[j].Username })
	var userRecords []any
	for _, u := range userList {
		userRecords = append(userRecords, struct {
			*host.User
			PasswordHash string `json:"password_hash"`
		}{u, u.PasswordHash})
	}
	// Rule hits in the contract's order (by hour, then key), their times
	// to the microsecond.
	hits, err := s.RuleHits(ctx, time.Time{})
	if err != nil {
		return nil, err
	}
	var hitRecords []any
	for _, h := range hits {
		h.Hour, h.FirstAt, h.LastAt = h.Hour.UTC(), h.FirstAt.Truncate(time.Microsecond).UTC(), h.LastAt.Truncate(time.Microsecond).UTC()
		hitRecords = append(hitRecords, h)
	}
	for _, t := range []struct {
		name    string
		records []any
	}{{"shipping_mappings", shipping}, {"routing_groups", anys(groups)}, {"api_keys", anys(keys)}, {"alert_destinations", anys(dests)}, {"users", userRecords},
		{"rule_hits", hitRecords}} {
		if err := add(t.name, t.records); err != nil {
			return nil, err
		}
	}
	var deliveries []any
	for after := ""; ; {
		page, next, err := s.ListDeliveries(ctx, host.DeliveryFilter{After: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		deliveries = append(deliveries, anys(page)...)
		if next == "" {
			break
		}
		after = next
	}
	// By id: two stores may order deliveries made in the same microsecond
	// differently.
	sort.Slice(deliveries, func(i, j int) bool { return deliveries[i].(*host.Delivery).ID < deliveries[j].(*host.Delivery).ID })
	if err := add("alert_deliveries", deliveries); err != nil {
		return nil, err
	}
	// Orders are hashed as they are read, page by page: they are most of
	// the data.
	h := sha256.New()
	orders := 0
	for after := ""; ; {
		page, next, err := s.ListOrders(ctx, host.OrderFilter{After: after, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			data, err := json.Marshal(r)
			if err != nil {
				return nil, err
			}
			h.Write(data)
			h.Write([]byte{'\n'})
		}
		orders += len(page)
		if next == "" {
			break
		}
		after = next
	}
	out = append(out, Table{Name: "orders", Count: orders, Checksum: hex.EncodeToString(h.Sum(nil)[:8])})
	if err := add("channel_cursors", cursors); err != nil {
		return nil, err
	}
	if err := add("import_runs", runs); err != nil {
		return nil, err
	}
	return out, nil
}

func anys[T any](list []T) []any {
	out := make([]any, len(list))
	for i, v := range list {
		out[i] = v
	}
	return out
}
