package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
)

// bucketRuleHits keeps the hourly rule hit counts:
//
//	hour (8 bytes: Unix seconds, sign bit flipped, big-endian) revision \x00 package \x00 output \x00 rule -> ruleHitValue JSON
//
// so the hits since an hour are one seek and a forward scan, by hour then
// key, and pruning deletes a prefix of the bucket.
var bucketRuleHits = []byte("rule_hits")

// ruleHitValue is the stored form of a hit's counts (its key holds the rest).
type ruleHitValue struct {
	Count       int64     `json:"count"`
	FirstAt     time.Time `json:"first_at"`
	LastAt      time.Time `json:"last_at"`
	LastOrderID string    `json:"last_order_id,omitempty"`
}

// hourKey is the key prefix of the hits of the hour starting at Unix
// second sec (flipping the sign bit keeps times before 1970 in order).
func hourKey(sec int64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 64), uint64(sec)^(1<<63))
}

// ceilSecond is the first Unix second at or after t.
func ceilSecond(t time.Time) int64 {
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	return sec
}

func ruleHitKey(h *host.RuleHit) []byte {
	k := hourKey(h.Hour.Unix())
	for i, f := range []string{h.Revision, h.Package, h.Output, h.Rule} {
		if i > 0 {
			k = append(k, 0)
		}
		k = append(k, f...)
	}
	return k
}

func decodeRuleHit(k, v []byte) (host.RuleHit, error) {
	var h host.RuleHit
	parts := bytes.SplitN(k[min(8, len(k)):], []byte{0}, 4)
	if len(k) < 8 || len(parts) != 4 {
		return h, fmt.Errorf("decoding a rule hit: malformed key %q", k)
	}
	var val ruleHitValue
	if err := json.Unmarshal(v, &val); err != nil {
		return h, fmt.Errorf("decoding a rule hit: %w", err)
	}
	h.Hour = time.Unix(int64(binary.BigEndian.Uint64(k[:8])^(1<<63)), 0).UTC()
	h.Revision, h.Package, h.Output, h.Rule = string(parts[0]), string(parts[1]), string(parts[2]), string(parts[3])
	h.Count, h.FirstAt, h.LastAt, h.LastOrderID = val.Count, val.FirstAt.UTC(), val.LastAt.UTC(), val.LastOrderID
	return h, nil
}

// checkRuleHits returns the hits with their hours truncated to the UTC
// hour, or EINVALID for a key field that is not UTF-8 or holds a NUL
// (which the key separates fields by, and PostgreSQL text cannot hold).
func checkRuleHits(hits []host.RuleHit) ([]host.RuleHit, error) {
	out := make([]host.RuleHit, len(hits))
	for i, h := range hits {
		for _, f := range []string{h.Revision, h.Package, h.Output, h.Rule} {
			if !utf8.ValidString(f) || strings.IndexByte(f, 0) >= 0 {
				return nil, host.Errorf(host.EINVALID, "rule hit %q/%q/%q/%q: a key field must be UTF-8 without NUL", h.Revision, h.Package, h.Output, h.Rule)
			}
		}
		h.Hour = h.Hour.UTC().Truncate(time.Hour)
		out[i] = h
	}
	return out, nil
}

// AddRuleHits implements host.RuleHitStore, in one write transaction.
func (d *DB) AddRuleHits(ctx context.Context, hits []host.RuleHit) error {
	hits, err := checkRuleHits(hits)
	if err != nil || len(hits) == 0 {
		return err
	}
	keys := make([][]byte, len(hits))
	for i := range hits {
		keys[i] = ruleHitKey(&hits[i])
	}
	return d.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuleHits)
		for i := range hits {
			h := hits[i]
			if old := b.Get(keys[i]); old != nil {
				cur, err := decodeRuleHit(keys[i], old)
				if err != nil {
					return err
				}
				cur.Merge(&h)
				h = cur
			}
			data, err := json.Marshal(ruleHitValue{Count: h.Count, FirstAt: h.FirstAt.UTC(), LastAt: h.LastAt.UTC(), LastOrderID: h.LastOrderID})
			if err != nil {
				return err
			}
			if err := b.Put(keys[i], data); err != nil {
				return err
			}
		}
		return nil
	})
}

// RuleHits implements host.RuleHitStore: the bucket's order from since's
// hour on.
func (d *DB) RuleHits(_ context.Context, since time.Time) ([]host.RuleHit, error) {
	var out []host.RuleHit
	err := d.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketRuleHits).Cursor()
		for k, v := c.Seek(hourKey(ceilSecond(since))); k != nil; k, v = c.Next() {
			h, err := decodeRuleHit(k, v)
			if err != nil {
				return err
			}
			out = append(out, h)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PruneRuleHits implements host.RuleHitStore: the keys below before's
// hour key.
func (d *DB) PruneRuleHits(ctx context.Context, before time.Time) (int, error) {
	bound := hourKey(ceilSecond(before))
	var n int
	err := d.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuleHits)
		var old [][]byte
		c := b.Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k, bound) < 0; k, _ = c.Next() {
			old = append(old, slices.Clone(k))
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		// Set on every run of fn: a group that fails runs it again alone.
		n = len(old)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
