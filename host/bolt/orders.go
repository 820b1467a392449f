package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// Index kinds (first byte of an order_index key).
const (
	idxStatus   = 's'
	idxTag      = 't'
	idxHold     = 'h'
	idxChannel  = 'c'
	idxExternal = 'x'
	idxNumber   = 'n'
	// idxSKU lists the orders with a line of the SKU.
	idxSKU = 'k'
	// idxLookAlike finds look-alike orders for duplicate protection: the
	// orders (not canceled) of one fingerprint in import order, each entry's
	// value the look-alike as the workflow sees it (lookAlikeValue), so the
	// search reads no record. Schema 4 replaced the 'f' index (fingerprint
	// and placed time, no value).
	idxLookAlike = 'g'
	// idxFingerprintV3 is the fingerprint index of schema 3 and before.
	idxFingerprintV3 = 'f'
	// idxDue lists orders by when their next timed hold falls due: the
	// value is the time (timeKey, 8 bytes).
	idxDue = 'd'
	// idxUpdated lists orders by when they last changed (updated_at, or
	// imported_at for records without it), as timeKey (schema 5).
	idxUpdated = 'u'
	// idxEmail and idxName list a customer's orders by email and name,
	// normalized (host.NormalizeEmail, host.NormalizeName) (schema 6).
	idxEmail = 'e'
	idxName  = 'm'
	// idxPlaced lists orders by placed_at, idxHeld orders on hold by when
	// they went on hold (Record.HeldAt), as timeKey: the sorted queue
	// (schema 7).
	idxPlaced = 'p'
	idxHeld   = 'w'
)

func indexKey(kind byte, value, id string) []byte {
	k := make([]byte, 0, 2+len(value)+1+len(id))
	k = append(k, kind, 0)
	k = append(k, value...)
	k = append(k, 0)
	return append(k, id...)
}

// indexFillPercent is how full bbolt fills the index's pages when it
// splits them.
const indexFillPercent = 0.9

func indexPrefix(kind byte, value string) []byte { return indexKey(kind, value, "") }

// indexEntry is one entry of the order index; most have no value.
type indexEntry struct {
	key, value []byte
}

// indexKeys lists the index entries of a record: what the list filters
// and the duplicate search need. With values, the status entry's value
// is the record's basic view (Record.Basic, encoded as records are), so
// a list of basic orders reads no record; without, only the keys are
// made (what an update removes).
func indexKeys(r *host.Record, values bool) ([]indexEntry, error) {
	var basic []byte
	if values {
		var err error
		if basic, err = marshalRecord(r.Basic()); err != nil {
			return nil, fmt.Errorf("encoding the basic view of order %s: %w", r.ID, err)
		}
	}
	entries := []indexEntry{
		{key: indexKey(idxStatus, string(r.Status), r.ID), value: basic},
		{key: indexKey(idxChannel, r.ChannelID, r.ID)},
		{key: indexKey(idxExternal, r.ExternalID, r.ID)},
		{key: indexKey(idxNumber, r.Number, r.ID)},
	}
	add := func(k []byte) {
		if !slices.ContainsFunc(entries, func(x indexEntry) bool { return bytes.Equal(x.key, k) }) {
			entries = append(entries, indexEntry{key: k})
		}
	}
	for _, t := range r.View().Tags {
		add(indexKey(idxTag, t, r.ID))
	}
	if e := host.NormalizeEmail(r.Customer.Email); e != "" {
		add(indexKey(idxEmail, e, r.ID))
	}
	if n := host.NormalizeName(r.Customer.Name); n != "" {
		add(indexKey(idxName, n, r.ID))
	}
	for _, h := range r.Holds {
		add(indexKey(idxHold, h.Reason, r.ID))
	}
	for _, li := range r.LineItems {
		if li.SKU != "" {
			add(indexKey(idxSKU, li.SKU, r.ID))
		}
	}
	if r.Status != sdk.StatusCanceled {
		entries = append(entries, indexEntry{key: indexKey(idxLookAlike, host.Fingerprint(&r.Order), r.ID), value: lookAlikeValue(r)})
	}
	if due := r.DueAt(); due != nil {
		entries = append(entries, indexEntry{key: indexKey(idxDue, string(timeKey(*due)), r.ID)})
	}
	if u := lastChanged(r); u != nil {
		entries = append(entries, indexEntry{key: indexKey(idxUpdated, string(timeKey(*u)), r.ID)})
	}
	return append(entries, sortEntries(r)...), nil
}

// sortEntries are r's entries of the sort indexes.
func sortEntries(r *host.Record) []indexEntry {
	out := []indexEntry{{key: indexKey(idxPlaced, string(timeKey(r.PlacedAt)), r.ID)}}
	if h := r.HeldAt(); h != nil {
		out = append(out, indexEntry{key: indexKey(idxHeld, string(timeKey(*h)), r.ID)})
	}
	return out
}

// lastChanged is when the order last changed, for the updated index.
func lastChanged(r *host.Record) *time.Time {
	if r.UpdatedAt != nil {
		return r.UpdatedAt
	}
	return r.ImportedAt
}

// timeEntry reads a key of a time index (idxDue, idxUpdated): its time
// key and the order id.
func timeEntry(kind byte, k []byte) (at []byte, id string, ok bool) {
	const head = 2 + 8 + 1 // kind, 0, time, 0
	if len(k) <= head || k[0] != kind {
		return nil, "", false
	}
	return k[2:10], string(k[head:]), true
}

// ClaimDueOrders implements host.OrderStore. One host uses a bbolt file,
// so its claims are kept in memory.
func (d *DB) ClaimDueOrders(_ context.Context, at time.Time, limit int) ([]string, error) {
	d.claimsMu.Lock()
	defer d.claimsMu.Unlock()
	wall := time.Now()
	var out []string
	end := timeKey(at)
	err := d.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketIndex).Cursor()
		prefix := []byte{idxDue, 0}
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, _ = c.Next() {
			t, id, ok := timeEntry(idxDue, k)
			if !ok || bytes.Compare(t, end) > 0 {
				break
			}
			if until, ok := d.dueClaims[id]; ok && wall.Before(until) {
				continue
			}
			out = append(out, id)
		}
		return nil
	})
	for _, id := range out {
		d.dueClaims[id] = wall.Add(host.ClaimTimeout)
	}
	for id, until := range d.dueClaims {
		if !wall.Before(until) {
			delete(d.dueClaims, id)
		}
	}
	return out, err
}

// listByTime is ListOrders with DueBefore or UpdatedAfter: the time
// index gives the orders in the time range [from, to), which are then
// filtered and paged like any list, newest first.
func (d *DB) listByTime(f host.OrderFilter, kind byte, from, to []byte, lower, upper string) ([]*host.Record, string, error) {
	var out []*host.Record
	next := ""
	err := d.view(func(tx *bolt.Tx) error {
		var ids []string
		c := tx.Bucket(bucketIndex).Cursor()
		prefix := []byte{kind, 0}
		for k, _ := c.Seek(append(slices.Clone(prefix), from...)); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			t, id, ok := timeEntry(kind, k)
			if !ok || (to != nil && bytes.Compare(t, to) >= 0) {
				break
			}
			if id >= lower && id < upper {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		for i := len(ids) - 1; i >= 0; i-- {
			full, err := addMatching(tx, ids[i], &f, &out)
			if err != nil {
				return err
			}
			if full {
				next = out[len(out)-1].ID
				break
			}
		}
		return nil
	})
	return out, next, err
}

// addMatching reads order id and appends it to out when it matches f.
// It reports full when out had f.Limit orders already and id matched too:
// another page follows, and the walk stops. For a list of basic orders
// it reads the basic view kept in the order's status entry, not the
// record.
func addMatching(tx *bolt.Tx, id string, f *host.OrderFilter, out *[]*host.Record) (full bool, err error) {
	basic, ok := inIndexes(tx, id, f)
	if !ok {
		return false, nil
	}
	var r *host.Record
	if basic != nil {
		r, err = unmarshalRecord(id, basic)
	} else {
		r, err = getRecord(tx, id)
	}
	if err != nil || !matches(r, f) {
		return false, err
	}
	if len(*out) == f.Limit {
		return true, nil
	}
	*out = append(*out, r)
	return false, nil
}

// statuses are the values of the status index.
var statuses = [...]sdk.Status{sdk.StatusOnHold, sdk.StatusOpen, sdk.StatusCanceled}

// inIndexes reports whether order id is in the index entry of each of
// f's indexed equality filters: a seek in the index per filter, which
// rejects an order without reading and decoding its record. A walk in
// one index (a sort, a time range) with a filter few orders match, such
// as the hold queue by a rare reason, costs seeks rather than records.
// When f asks for basic orders it also returns the order's basic view,
// the value of its status entry (nil for an entry written without one).
func inIndexes(tx *bolt.Tx, id string, f *host.OrderFilter) (basic []byte, ok bool) {
	var c *bolt.Cursor
	var buf [128]byte
	seek := func(kind byte, value string) ([]byte, bool) {
		if c == nil {
			c = tx.Bucket(bucketIndex).Cursor()
		}
		key := append(append(append(append(buf[:0], kind, 0), value...), 0), id...)
		k, v := c.Seek(key)
		return v, bytes.Equal(k, key)
	}
	for _, kv := range [...]struct {
		kind  byte
		value string
	}{{idxHold, f.HoldReason}, {idxTag, f.Tag}, {idxChannel, f.ChannelID}, {idxSKU, f.SKU}} {
		if kv.value != "" {
			if _, ok := seek(kv.kind, kv.value); !ok {
				return nil, false
			}
		}
	}
	if f.Status != "" {
		v, ok := seek(idxStatus, f.Status)
		if !ok || !f.Basic {
			return nil, ok
		}
		return valueOrNil(v), true
	}
	if f.Basic {
		for _, st := range statuses {
			if v, ok := seek(idxStatus, string(st)); ok {
				return valueOrNil(v), true
			}
		}
	}
	return nil, true
}

// valueOrNil is nil for an empty value: an entry without a basic view.
func valueOrNil(v []byte) []byte {
	if len(v) == 0 {
		return nil
	}
	return v
}

// optTimeKey is the time key of t, nil for the zero time (no bound).
func optTimeKey(t time.Time) []byte {
	if t.IsZero() {
		return nil
	}
	return timeKey(t)
}

// listSorted is ListOrders with Sort: it walks the sort's index in its
// direction from the cursor, within the held range when sorted by
// held_at, and checks the other filters on each record it reads.
func (d *DB) listSorted(f host.OrderFilter, lower, upper string) ([]*host.Record, string, error) {
	kind, from, to := byte(idxPlaced), []byte(nil), []byte(nil)
	if strings.TrimPrefix(f.Sort, "-") == host.SortHeldAt {
		kind, from, to = idxHeld, optTimeKey(f.HeldAfter), optTimeKey(f.HeldBefore)
	}
	desc := strings.HasPrefix(f.Sort, "-")
	var after []byte
	if f.After != "" {
		c, err := host.ParseSortCursor(f.After)
		if err != nil {
			return nil, "", err
		}
		// A cursor of another list, or an impossible time, is refused.
		if c.At.Year() < 1 || c.At.Year() > 9999 {
			return nil, "", host.InvalidFields("the cursor is not valid", []sdk.FieldError{{Field: "cursor", Detail: "is not a cursor of this sorted list"}})
		}
		after = indexKey(kind, string(timeKey(c.At)), c.ID)
	}
	prefix := []byte{kind, 0}
	var out []*host.Record
	next := ""
	err := d.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketIndex).Cursor()
		var k []byte
		switch {
		case !desc && after != nil:
			if k, _ = c.Seek(after); k != nil && bytes.Equal(k, after) {
				k, _ = c.Next()
			}
		case !desc:
			k, _ = c.Seek(append(slices.Clone(prefix), from...))
		case after != nil:
			k, _ = lastBefore(c, after)
		case to != nil:
			k, _ = lastBefore(c, append(slices.Clone(prefix), to...))
		default:
			k, _ = lastBefore(c, []byte{kind, 1})
		}
		step := c.Next
		if desc {
			step = c.Prev
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = step() {
			t, id, ok := timeEntry(kind, k)
			if !ok {
				continue
			}
			if to != nil && bytes.Compare(t, to) >= 0 {
				if desc {
					continue
				}
				break
			}
			if from != nil && bytes.Compare(t, from) < 0 {
				if desc {
					break
				}
				continue
			}
			if id < lower || id >= upper {
				continue
			}
			full, err := addMatching(tx, id, &f, &out)
			if err != nil {
				return err
			}
			if full {
				last := out[len(out)-1]
				next = host.SortCursor{At: *host.SortTime(last, f.Sort), ID: last.ID}.String()
				break
			}
		}
		return nil
	})
	return out, next, err
}

// lookAlikeValue encodes what the duplicate search tells of an order:
// placed_at (8 bytes, Unix nanoseconds), then the status, channel,
// external id and number, each a uvarint length and its bytes.
func lookAlikeValue(r *host.Record) []byte {
	v := binary.BigEndian.AppendUint64(nil, uint64(r.PlacedAt.UnixNano()))
	for _, s := range []string{string(r.Status), r.ChannelID, r.ExternalID, r.Number} {
		v = binary.AppendUvarint(v, uint64(len(s)))
		v = append(v, s...)
	}
	return v
}

// lookAlikePlaced reads the placed time of a look-alike entry's value.
func lookAlikePlaced(v []byte) (time.Time, bool) {
	if len(v) < 8 {
		return time.Time{}, false
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC(), true
}

// decodeLookAlike reads a look-alike entry's value.
func decodeLookAlike(id string, v []byte) (host.DuplicateCandidate, error) {
	placed, ok := lookAlikePlaced(v)
	if !ok {
		return host.DuplicateCandidate{}, fmt.Errorf("look-alike entry of order %s is damaged", id)
	}
	v = v[8:]
	var parts [4]string
	for i := range parts {
		n, k := binary.Uvarint(v)
		if k <= 0 || uint64(len(v)-k) < n {
			return host.DuplicateCandidate{}, fmt.Errorf("look-alike entry of order %s is damaged", id)
		}
		parts[i], v = string(v[k:k+int(n)]), v[k+int(n):]
	}
	return host.DuplicateCandidate{ID: id, Status: sdk.Status(parts[0]), ChannelID: parts[1], ExternalID: parts[2], Number: parts[3], PlacedAt: placed}, nil
}

func externalKey(channel, external string) []byte {
	return append(append([]byte(channel), 0), external...)
}

// encodedRecord is a record ready to store: its JSON and its index keys.
type encodedRecord struct {
	id   string
	data []byte
	keys []indexEntry
	// alerts are the deliveries the record's decision calls for.
	alerts []*host.Delivery
	// events are the change's events, encoded for the feed.
	events [][]byte
}

// encodeRecord encodes r, changed from old (nil for a new order).
func encodeRecord(r, old *host.Record) (encodedRecord, error) {
	data, err := marshalRecord(r)
	if err != nil {
		return encodedRecord{}, err
	}
	events, err := encodeEvents(host.OrderEvents(old, r))
	if err != nil {
		return encodedRecord{}, err
	}
	keys, err := indexKeys(r, true)
	if err != nil {
		return encodedRecord{}, err
	}
	return encodedRecord{id: r.ID, data: data, keys: keys, alerts: host.Deliveries(r, time.Now().UTC()), events: events}, nil
}

func putRecord(tx *bolt.Tx, r *host.Record, old *host.Record) error {
	enc, err := encodeRecord(r, old)
	if err != nil {
		return err
	}
	return putEncoded(tx, enc, old)
}

// putEncoded stores a record and its index entries, and removes the
// entries of old that it no longer has.
func putEncoded(tx *bolt.Tx, enc encodedRecord, old *host.Record) error {
	orders := tx.Bucket(bucketOrders)
	// Ids grow with time, so new orders go at the end: full pages, not
	// the half-full ones bbolt leaves for inserts in the middle.
	orders.FillPercent = 1
	if err := orders.Put([]byte(enc.id), enc.data); err != nil {
		return fmt.Errorf("storing order %s: %w", enc.id, err)
	}
	// The transactional outbox: the alerts and events commit with the
	// change.
	if err := enqueueDeliveries(tx, enc.alerts); err != nil {
		return err
	}
	if err := appendEvents(tx, enc.events); err != nil {
		return err
	}
	return putIndexKeys(tx, enc.id, enc.keys, old)
}

// putIndexes writes the index entries of r and removes those of old that r
// no longer has.
func putIndexes(tx *bolt.Tx, r *host.Record, old *host.Record) error {
	entries, err := indexKeys(r, true)
	if err != nil {
		return err
	}
	return putIndexKeys(tx, r.ID, entries, old)
}

func putIndexKeys(tx *bolt.Tx, id string, entries []indexEntry, old *host.Record) error {
	idx := tx.Bucket(bucketIndex)
	// Within each index value the ids grow with time: entries are added at
	// the end of their run, so pages can be filled.
	idx.FillPercent = indexFillPercent
	var oldEntries []indexEntry
	if old != nil {
		oldEntries, _ = indexKeys(old, false) // keys only: cannot fail
	}
	has := func(list []indexEntry, k []byte) bool {
		return slices.ContainsFunc(list, func(x indexEntry) bool { return bytes.Equal(x.key, k) })
	}
	for _, e := range oldEntries {
		if !has(entries, e.key) {
			if err := idx.Delete(e.key); err != nil {
				return err
			}
			if err := addCount(tx, orderCountKey(e.key), -1); err != nil {
				return err
			}
		}
	}
	for _, e := range entries {
		if err := idx.Put(e.key, e.value); err != nil {
			return fmt.Errorf("indexing order %s: %w", id, err)
		}
		if !has(oldEntries, e.key) {
			if err := addCount(tx, orderCountKey(e.key), 1); err != nil {
				return err
			}
		}
	}
	return nil
}

func getRecord(tx *bolt.Tx, id string) (*host.Record, error) {
	data := tx.Bucket(bucketOrders).Get([]byte(id))
	if data == nil {
		return nil, host.Errorf(host.ENOTFOUND, "order %s not found", id)
	}
	return unmarshalRecord(id, data)
}

// CreateOrders implements host.OrderStore.
func (d *DB) CreateOrders(ctx context.Context, orders []host.NewOrder) ([]host.CreateResult, error) {
	return d.createOrders(ctx, orders, nil)
}

// CommitPage implements host.OrderStore.
func (d *DB) CommitPage(ctx context.Context, orders []host.NewOrder, page host.PageCommit) ([]host.CreateResult, error) {
	return d.createOrders(ctx, orders, &page)
}

func (d *DB) createOrders(ctx context.Context, orders []host.NewOrder, page *host.PageCommit) ([]host.CreateResult, error) {
	results := make([]host.CreateResult, len(orders))
	// Encode in the caller's goroutine: the committer's transaction, which
	// every writer waits for, then only reads and puts bytes.
	encoded := make([]encodedRecord, len(orders))
	for i, no := range orders {
		e, err := encodeRecord(no.Record, nil)
		if err != nil {
			return nil, err
		}
		if no.Copied {
			e.events = nil
		}
		encoded[i] = e
	}
	err := d.updateQueued(ctx, func(tx *bolt.Tx) error {
		for i, no := range orders {
			res, err := createOrder(tx, no, encoded[i])
			if err != nil {
				return err
			}
			results[i] = res
		}
		// A page commits once none of its orders must be decided again.
		if page == nil || slices.ContainsFunc(results, func(r host.CreateResult) bool { return errors.Is(r.Err, host.ErrLookAlikeRaced) }) {
			return nil
		}
		if page.Cursor != "" {
			if err := tx.Bucket(bucketCursors).Put([]byte(page.ChannelID), []byte(page.Cursor)); err != nil {
				return err
			}
		}
		return putPageRun(tx, page.Run(results))
	}, func() { host.LookAlikesQueued(orders) })
	if err != nil {
		return nil, fmt.Errorf("storing orders: %w", err)
	}
	return results, nil
}

func createOrder(tx *bolt.Tx, no host.NewOrder, enc encodedRecord) (host.CreateResult, error) {
	r := no.Record
	idem := tx.Bucket(bucketIdem)
	var idemKey []byte
	if no.IdempotencyKey != "" {
		idemKey = externalKey(r.ChannelID, no.IdempotencyKey)
		if v := idem.Get(idemKey); v != nil {
			id, hash, _ := bytes.Cut(v, []byte{0})
			if string(hash) != no.RequestHash {
				return host.CreateResult{Err: host.Errorf(host.ECONFLICT,
					"Idempotency-Key %q was already used with a different request body (order %s)", no.IdempotencyKey, id)}, nil
			}
			existing, err := getRecord(tx, string(id))
			return host.CreateResult{Record: existing}, err
		}
	}
	ext := tx.Bucket(bucketExternal)
	ext.FillPercent = indexFillPercent // channels' external ids mostly grow
	ek := externalKey(r.ChannelID, r.ExternalID)
	if id := ext.Get(ek); id != nil {
		existing, err := getRecord(tx, string(id))
		return host.CreateResult{Record: existing}, err
	}
	if no.LookAlikes != nil && lookAlikeRaced(tx, no.LookAlikes) {
		return host.CreateResult{Err: host.ErrLookAlikeRaced}, nil
	}
	if err := ext.Put(ek, []byte(r.ID)); err != nil {
		return host.CreateResult{}, err
	}
	if idemKey != nil {
		if err := idem.Put(idemKey, append(append([]byte(r.ID), 0), no.RequestHash...)); err != nil {
			return host.CreateResult{}, err
		}
	}
	if err := putEncoded(tx, enc, nil); err != nil {
		return host.CreateResult{}, err
	}
	return host.CreateResult{Record: r, Created: true}, nil
}

// Order implements host.OrderStore.
func (d *DB) Order(_ context.Context, id string) (r *host.Record, err error) {
	err = d.view(func(tx *bolt.Tx) error {
		r, err = getRecord(tx, id)
		return err
	})
	return r, err
}

// OrdersByExternalID implements host.OrderStore.
func (d *DB) OrdersByExternalID(_ context.Context, channelID string, externalIDs []string) (map[string]*host.Record, error) {
	out := map[string]*host.Record{}
	err := d.view(func(tx *bolt.Tx) error {
		ext := tx.Bucket(bucketExternal)
		for _, e := range externalIDs {
			if id := ext.Get(externalKey(channelID, e)); id != nil {
				r, err := getRecord(tx, string(id))
				if err != nil {
					return err
				}
				out[e] = r
			}
		}
		return nil
	})
	return out, err
}

// UpdateOrder implements host.OrderStore.
func (d *DB) UpdateOrder(ctx context.Context, id string, fn func(*host.Record) error) (*host.Record, error) {
	var updated *host.Record
	var fnErr error
	err := d.update(ctx, func(tx *bolt.Tx) error {
		old, err := getRecord(tx, id)
		if err != nil {
			fnErr = err
			return nil
		}
		r, _ := getRecord(tx, id)
		if fnErr = fn(r); fnErr != nil {
			return nil
		}
		updated = r
		return putRecord(tx, r, old)
	})
	if err != nil {
		return nil, fmt.Errorf("updating order %s: %w", id, err)
	}
	return updated, fnErr
}

// ListOrders implements host.OrderStore. It walks the most selective index
// the filter allows, newest first, and checks the other filters on each
// record it reads.
func (d *DB) ListOrders(_ context.Context, f host.OrderFilter) ([]*host.Record, string, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	var prefix []byte
	var bucket []byte = bucketIndex
	switch {
	case f.ExternalID != "":
		prefix = indexPrefix(idxExternal, f.ExternalID)
	case f.Number != "":
		prefix = indexPrefix(idxNumber, f.Number)
	case f.CustomerEmail != "":
		prefix = indexPrefix(idxEmail, host.NormalizeEmail(f.CustomerEmail))
	case f.CustomerName != "":
		prefix = indexPrefix(idxName, host.NormalizeName(f.CustomerName))
	case f.SKU != "":
		prefix = indexPrefix(idxSKU, f.SKU)
	case f.HoldReason != "":
		prefix = indexPrefix(idxHold, f.HoldReason)
	case f.Tag != "":
		prefix = indexPrefix(idxTag, f.Tag)
	case f.Status != "":
		prefix = indexPrefix(idxStatus, f.Status)
	case f.ChannelID != "":
		prefix = indexPrefix(idxChannel, f.ChannelID)
	default:
		bucket = bucketOrders
	}
	// Ids sort by import time, so the time range bounds the id range.
	upper := "\xff"
	if !f.ImportedBefore.IsZero() {
		upper = timeBound(f.ImportedBefore)
	}
	if f.After != "" && f.After < upper && f.Sort == "" {
		upper = f.After
	}
	lower := ""
	if !f.ImportedAfter.IsZero() {
		lower = timeBound(f.ImportedAfter)
	}
	if f.Sort != "" {
		return d.listSorted(f, lower, upper)
	}
	if !f.DueBefore.IsZero() {
		return d.listByTime(f, idxDue, nil, timeKey(f.DueBefore), lower, upper)
	}
	if !f.HeldAfter.IsZero() || !f.HeldBefore.IsZero() {
		return d.listByTime(f, idxHeld, optTimeKey(f.HeldAfter), optTimeKey(f.HeldBefore), lower, upper)
	}
	if !f.UpdatedAfter.IsZero() {
		return d.listByTime(f, idxUpdated, timeKey(f.UpdatedAfter), nil, lower, upper)
	}

	var out []*host.Record
	next := ""
	err := d.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		seek := append(slices.Clone(prefix), upper...)
		k, _ := lastBefore(c, seek)
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
			id := string(k[len(prefix):])
			if id < lower {
				break
			}
			if id >= upper {
				continue
			}
			full, err := addMatching(tx, id, &f, &out)
			if err != nil {
				return err
			}
			if full {
				next = out[len(out)-1].ID
				break
			}
		}
		return nil
	})
	return out, next, err
}

// timeBound is the smallest id of an order imported at t.
func timeBound(t time.Time) string {
	var u ulid.ULID
	_ = u.SetTime(ulid.Timestamp(t))
	return u.String()
}

// matches checks f's filters on r, a record or a basic one; the SKU
// filter, which a basic record cannot answer, is inIndexes's.
func matches(r *host.Record, f *host.OrderFilter) bool {
	if f.Status != "" && string(r.Status) != f.Status {
		return false
	}
	if f.ChannelID != "" && r.ChannelID != f.ChannelID {
		return false
	}
	if f.ExternalID != "" && r.ExternalID != f.ExternalID {
		return false
	}
	if f.Number != "" && r.Number != f.Number {
		return false
	}
	if f.HoldReason != "" && !slices.ContainsFunc(r.Holds, func(h sdk.Hold) bool { return h.Reason == f.HoldReason }) {
		return false
	}
	if f.Tag != "" && !slices.Contains(r.View().Tags, f.Tag) {
		return false
	}
	if !f.DueBefore.IsZero() {
		if due := r.DueAt(); due == nil || !due.Before(f.DueBefore) {
			return false
		}
	}
	if !f.UpdatedAfter.IsZero() {
		if u := lastChanged(r); u == nil || u.Before(f.UpdatedAfter) {
			return false
		}
	}
	if !f.HeldAfter.IsZero() || !f.HeldBefore.IsZero() || strings.TrimPrefix(f.Sort, "-") == host.SortHeldAt {
		h := r.HeldAt()
		if h == nil || (!f.HeldAfter.IsZero() && h.Before(f.HeldAfter)) || (!f.HeldBefore.IsZero() && !h.Before(f.HeldBefore)) {
			return false
		}
	}
	if f.CustomerEmail != "" && host.NormalizeEmail(r.Customer.Email) != host.NormalizeEmail(f.CustomerEmail) {
		return false
	}
	if f.CustomerName != "" && host.NormalizeName(r.Customer.Name) != host.NormalizeName(f.CustomerName) {
		return false
	}
	return true
}
