package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/klauspost/compress/s2"
	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

var (
	// bucketEvents is the change feed: sequence (8 bytes, big-endian) ->
	// time of the change (timeKey, 8 bytes), type \x00 channel id \x00,
	// then the event's compressed JSON. One writer commits at a time, so
	// the sequence is the commit order.
	bucketEvents = []byte("events")
	// bucketEventIDs lists the ids of operational events, which are
	// appended once each: id -> sequence.
	bucketEventIDs = []byte("event_ids")
	// keyFanOut, in the settings bucket, is the sequence of the last
	// event fanned out to subscribed destinations.
	keyFanOut = []byte("event_fanout")
	// keyPruned, in the settings bucket, is the sequence of the last event
	// PruneEvents removed.
	keyPruned = []byte("events_pruned")
)

// encodeEvents encodes events as the feed stores them: the type and
// channel, then the event's JSON compressed as records are (record.go),
// since it carries the order.
func encodeEvents(events []*host.Event) ([][]byte, error) {
	out := make([][]byte, len(events))
	for i, ev := range events {
		js, err := gojson.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("encoding event %s: %w", ev.ID, err)
		}
		head := 8 + len(ev.Type) + len(ev.ChannelID) + 2
		v := make([]byte, head+1+s2.MaxEncodedLen(len(js)))
		copy(v, timeKey(ev.At))
		copy(v[8:], ev.Type)
		copy(v[8+len(ev.Type)+1:], ev.ChannelID)
		v[head] = formatS2JSON
		n := len(recordDict.Encode(v[head+1:], js))
		out[i] = v[: head+1+n : head+1+n]
	}
	return out, nil
}

// decodeEvent decodes the JSON part of a stored event.
func decodeEvent(seq uint64, data []byte) (*host.Event, error) {
	if len(data) == 0 || data[0] != formatS2JSON {
		return nil, fmt.Errorf("event %d has an unknown format", seq)
	}
	js, err := recordDict.Decode(nil, data[1:])
	if err != nil {
		return nil, fmt.Errorf("decompressing event %d: %w", seq, err)
	}
	ev := new(host.Event)
	if err := gojson.Unmarshal(js, ev); err != nil {
		return nil, fmt.Errorf("decoding event %d: %w", seq, err)
	}
	return ev, nil
}

// decodeEventValue splits a stored event into its type, channel and JSON.
func decodeEventValue(v []byte) (typ, channel string, data []byte, ok bool) {
	if len(v) < 8 {
		return "", "", nil, false
	}
	t, rest, ok1 := bytes.Cut(v[8:], []byte{0})
	c, data, ok2 := bytes.Cut(rest, []byte{0})
	return string(t), string(c), data, ok1 && ok2
}

// seqOf reads a sequence stored under key in the settings bucket.
func seqOf(tx *bolt.Tx, key []byte) uint64 {
	if v := tx.Bucket(bucketSettings).Get(key); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// appendEvents appends encoded events to the feed, each with the next
// sequence.
func appendEvents(tx *bolt.Tx, events [][]byte) error {
	if len(events) == 0 {
		return nil
	}
	b := tx.Bucket(bucketEvents)
	b.FillPercent = 1 // appended at the end only
	for _, v := range events {
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		if err := b.Put(seqKey(seq), v); err != nil {
			return fmt.Errorf("appending an event: %w", err)
		}
	}
	return nil
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// parseCursor reads a cursor of the feed: the decimal sequence of the
// last event read ("" is 0, before the first).
func parseCursor(cursor string) (uint64, error) {
	if cursor == "" {
		return 0, nil
	}
	seq, err := strconv.ParseUint(cursor, 10, 64)
	if err != nil {
		return 0, host.InvalidFields("the cursor is not valid", []sdk.FieldError{{Field: "after", Detail: "is not a cursor of this feed: pass a cursor or next_cursor it gave"}})
	}
	return seq, nil
}

// Events implements host.EventStore.
func (d *DB) Events(_ context.Context, f host.EventFilter) ([]*host.Event, string, error) {
	after, err := parseCursor(f.After)
	if err != nil {
		return nil, "", err
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var out []*host.Event
	next := ""
	err = d.view(func(tx *bolt.Tx) error {
		if after > 0 && after < seqOf(tx, keyPruned) {
			return host.ErrEventsPruned
		}
		c := tx.Bucket(bucketEvents).Cursor()
		scanned, last := 0, after
		for k, v := c.Seek(seqKey(after + 1)); k != nil; k, v = c.Next() {
			if len(out) == f.Limit || scanned == host.EventScanLimit {
				next = strconv.FormatUint(last, 10)
				return nil
			}
			scanned++
			last = binary.BigEndian.Uint64(k)
			typ, channel, data, ok := decodeEventValue(v)
			if !ok {
				return fmt.Errorf("event %d is damaged", last)
			}
			if !f.Selects(typ, channel) {
				continue
			}
			ev, err := decodeEvent(last, data)
			if err != nil {
				return err
			}
			ev.Cursor = strconv.FormatUint(last, 10)
			out = append(out, ev)
		}
		return nil
	})
	return out, next, err
}

// AppendEvent implements host.EventStore.
func (d *DB) AppendEvent(ctx context.Context, ev *host.Event, ds ...*host.Delivery) (bool, error) {
	enc, err := encodeEvents([]*host.Event{ev})
	if err != nil {
		return false, err
	}
	appended := false
	err = d.update(ctx, func(tx *bolt.Tx) error {
		appended = false
		if err := enqueueDeliveries(tx, ds); err != nil {
			return err
		}
		ids := tx.Bucket(bucketEventIDs)
		if ids.Get([]byte(ev.ID)) != nil {
			return nil
		}
		if err := appendEvents(tx, enc); err != nil {
			return err
		}
		appended = true
		return ids.Put([]byte(ev.ID), seqKey(tx.Bucket(bucketEvents).Sequence()))
	})
	if err != nil {
		return false, fmt.Errorf("appending event %s: %w", ev.ID, err)
	}
	return appended, nil
}

// FanOutEvents implements host.EventStore. One host uses a bbolt file,
// and its writes are serialized, so the turns are the transactions.
func (d *DB) FanOutEvents(ctx context.Context, now time.Time, limit int) (queued int, more bool, err error) {
	waiting := false
	if err := d.view(func(tx *bolt.Tx) error {
		waiting = fanOutWaiting(tx)
		return nil
	}); err != nil || !waiting {
		return 0, false, err // nothing new: no write, no fsync
	}
	err = d.update(ctx, func(tx *bolt.Tx) error {
		queued, more = 0, false
		settings := tx.Bucket(bucketSettings)
		done := seqOf(tx, keyFanOut)
		c := tx.Bucket(bucketEvents).Cursor()
		k, v := c.Seek(seqKey(done + 1))
		if k == nil {
			return errNothingToFanOut // another call took them: roll back, write nothing
		}
		dests, err := listJSON[host.Destination](tx.Bucket(bucketDestinations))
		if err != nil {
			return err
		}
		subscribed := dests[:0]
		for _, dest := range dests {
			if len(dest.Events) > 0 {
				subscribed = append(subscribed, dest)
			}
		}
		n := 0
		for ; k != nil && n < limit; k, v = c.Next() {
			n++
			done = binary.BigEndian.Uint64(k)
			typ, _, data, ok := decodeEventValue(v)
			if !ok {
				return fmt.Errorf("event %d is damaged", done)
			}
			if !host.AnySubscribes(subscribed, typ) {
				continue
			}
			ev, err := decodeEvent(done, data)
			if err != nil {
				return err
			}
			ds := host.EventDeliveries(ev, subscribed, now)
			if err := enqueueDeliveries(tx, ds); err != nil {
				return err
			}
			queued += len(ds)
		}
		more = k != nil
		return settings.Put(keyFanOut, seqKey(done))
	})
	if errors.Is(err, errNothingToFanOut) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("fanning out events: %w", err)
	}
	return queued, more, nil
}

// errNothingToFanOut rolls back a fan-out (or prune) that found no
// events: even an empty bbolt transaction writes the file when it commits.
var errNothingToFanOut = errors.New("no events to fan out")

// fanOutWaiting reports whether events wait to be fanned out.
func fanOutWaiting(tx *bolt.Tx) bool {
	k, _ := tx.Bucket(bucketEvents).Cursor().Seek(seqKey(seqOf(tx, keyFanOut) + 1))
	return k != nil
}

// PruneEvents implements host.EventStore: it removes the feed's first
// events, in order, while they are older than before and fanned out.
func (d *DB) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	removed := 0
	err := d.update(ctx, func(tx *bolt.Tx) error {
		removed = 0
		fanned := seqOf(tx, keyFanOut)
		bound := timeKey(before)
		events := tx.Bucket(bucketEvents)
		c := events.Cursor()
		var doomed [][]byte
		for k, v := c.First(); k != nil && len(doomed) < limit; k, v = c.Next() {
			if binary.BigEndian.Uint64(k) > fanned || len(v) < 8 || bytes.Compare(v[:8], bound) >= 0 {
				break
			}
			doomed = append(doomed, slices.Clone(k))
		}
		for _, k := range doomed {
			if err := events.Delete(k); err != nil {
				return err
			}
		}
		removed = len(doomed)
		if removed == 0 {
			return errNothingToFanOut // roll back: nothing written
		}
		return tx.Bucket(bucketSettings).Put(keyPruned, doomed[len(doomed)-1])
	})
	if errors.Is(err, errNothingToFanOut) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pruning events: %w", err)
	}
	return removed, nil
}
