package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/ordergate/ordergate/host"
)

// compareRuleHits orders hits by hour then key, the order of the table's
// primary key (its text is byte-ordered).
func compareRuleHits(a, b *host.RuleHit) int {
	return cmp.Or(a.Hour.Compare(b.Hour), strings.Compare(a.Revision, b.Revision), strings.Compare(a.Package, b.Package),
		strings.Compare(a.Output, b.Output), strings.Compare(a.Rule, b.Rule))
}

// mergedRuleHits checks the hits (EINVALID for a key field that is not
// UTF-8 or holds a NUL, which text cannot hold), truncates their hours to
// the UTC hour, merges those of the same key (one statement may not
// update a row twice) and sorts them by key, so that hosts adding at once
// lock the rows in the same order.
func mergedRuleHits(hits []host.RuleHit) ([]host.RuleHit, error) {
	out := make([]host.RuleHit, 0, len(hits))
	for _, h := range hits {
		for _, f := range []string{h.Revision, h.Package, h.Output, h.Rule} {
			if !utf8.ValidString(f) || strings.IndexByte(f, 0) >= 0 {
				return nil, host.Errorf(host.EINVALID, "rule hit %q/%q/%q/%q: a key field must be UTF-8 without NUL", h.Revision, h.Package, h.Output, h.Rule)
			}
		}
		h.Hour = h.Hour.UTC().Truncate(time.Hour)
		out = append(out, h)
	}
	slices.SortStableFunc(out, func(a, b host.RuleHit) int { return compareRuleHits(&a, &b) })
	merged := out[:0]
	for _, h := range out {
		if n := len(merged); n > 0 && compareRuleHits(&merged[n-1], &h) == 0 {
			merged[n-1].Merge(&h)
			continue
		}
		merged = append(merged, h)
	}
	return merged, nil
}

// nullTime is t, or NULL when t is zero (not known).
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// ceilMicro is the first microsecond at or after t: what a bound of
// nanoseconds compares as with the hours, which PostgreSQL keeps to the
// microsecond (pgx would drop the nanoseconds, rounding down).
func ceilMicro(t time.Time) time.Time {
	if u := t.Truncate(time.Microsecond); u.Before(t) {
		return u.Add(time.Microsecond)
	}
	return t
}

// AddRuleHits implements host.RuleHitStore: one statement, so one
// transaction. A NULL (unknown) time loses to any known one, as in
// host.RuleHit.Merge: least() skips NULLs, and a NULL last_at is never
// the later.
func (d *DB) AddRuleHits(ctx context.Context, hits []host.RuleHit) error {
	hits, err := mergedRuleHits(hits)
	if err != nil || len(hits) == 0 {
		return err
	}
	n := len(hits)
	hours, firsts, lasts := make([]time.Time, n), make([]*time.Time, n), make([]*time.Time, n)
	revs, pkgs, outs, rules, orders := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	counts := make([]int64, n)
	for i, h := range hits {
		hours[i], revs[i], pkgs[i], outs[i], rules[i] = h.Hour, h.Revision, h.Package, h.Output, h.Rule
		counts[i], firsts[i], lasts[i], orders[i] = h.Count, nullTime(h.FirstAt), nullTime(h.LastAt), h.LastOrderID
	}
	_, err = d.q.Exec(ctx, `INSERT INTO rule_hits AS r (hour, revision, package, output, rule, count, first_at, last_at, last_order_id)
		SELECT hour, rev, pkg, out, rule, n, first_at, last_at, order_id
		FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::timestamptz[], $8::timestamptz[], $9::text[])
			WITH ORDINALITY AS u(hour, rev, pkg, out, rule, n, first_at, last_at, order_id, i)
		ORDER BY i
		ON CONFLICT (hour, revision, package, output, rule) DO UPDATE SET
			count = r.count + excluded.count,
			first_at = least(r.first_at, excluded.first_at),
			last_at = CASE WHEN excluded.last_at > coalesce(r.last_at, '-infinity') THEN excluded.last_at ELSE r.last_at END,
			last_order_id = CASE WHEN excluded.last_at > coalesce(r.last_at, '-infinity') THEN excluded.last_order_id ELSE r.last_order_id END`,
		hours, revs, pkgs, outs, rules, counts, firsts, lasts, orders)
	if err != nil {
		return fmt.Errorf("adding %d rule hits: %w", n, err)
	}
	return nil
}

// RuleHits implements host.RuleHitStore.
func (d *DB) RuleHits(ctx context.Context, since time.Time) ([]host.RuleHit, error) {
	rows, err := d.q.Query(ctx, `SELECT hour, revision, package, output, rule, count, first_at, last_at, last_order_id
		FROM rule_hits WHERE hour >= $1 ORDER BY hour, revision, package, output, rule`, ceilMicro(since))
	if err != nil {
		return nil, err
	}
	var out []host.RuleHit
	var h host.RuleHit
	var first, last *time.Time
	_, err = pgx.ForEachRow(rows, []any{&h.Hour, &h.Revision, &h.Package, &h.Output, &h.Rule, &h.Count, &first, &last, &h.LastOrderID}, func() error {
		hit := h
		hit.Hour = h.Hour.UTC()
		hit.FirstAt, hit.LastAt = time.Time{}, time.Time{}
		if first != nil {
			hit.FirstAt = first.UTC()
		}
		if last != nil {
			hit.LastAt = last.UTC()
		}
		out = append(out, hit)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading rule hits: %w", err)
	}
	return out, nil
}

// PruneRuleHits implements host.RuleHitStore.
func (d *DB) PruneRuleHits(ctx context.Context, before time.Time) (int, error) {
	tag, err := d.q.Exec(ctx, `DELETE FROM rule_hits WHERE hour < $1`, ceilMicro(before))
	if err != nil {
		return 0, fmt.Errorf("pruning rule hits: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
