package orders

import (
	"context"
	"fmt"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// MaxBulk bounds the orders one bulk action selects: a filter that
// selects more is refused, so that a call is repeatable (idempotent)
// rather than acting on a first slice of what it selects.
const MaxBulk = 1000

// Bulk is what a bulk action acts on: the orders with Ids, or those the
// Filter selects (its cursor and limit are ignored), with a Note for each
// order's timeline. DryRun reports what would change and changes nothing.
type Bulk struct {
	IDs    []string
	Filter *host.OrderFilter
	Note   string
	DryRun bool
}

// BulkResult is what a bulk action did. Matched counts the orders
// selected (in a dry run: those that would change); Skipped lists those
// that did not need the action (already released, canceled) with why;
// Failed those the store could not change.
type BulkResult struct {
	Matched int          `json:"matched"`
	Changed int          `json:"changed"`
	Skipped []BulkSkip   `json:"skipped"`
	Failed  []BulkFailed `json:"failed"`
}

// BulkSkip is an order a bulk action left as it was, and why.
type BulkSkip struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// BulkFailed is an order a bulk action could not change.
type BulkFailed struct {
	ID    string `json:"id"`
	Error string `json:"error"`
}

// BulkRelease releases every selected order on hold, each in its own
// transaction with its own timeline entry.
func (s *Service) BulkRelease(ctx context.Context, b Bulk) (BulkResult, error) {
	return s.bulk(ctx, b, func(r *host.Record) string {
		if r.Status != sdk.StatusOnHold {
			return fmt.Sprintf("order is %s, not on_hold", r.Status)
		}
		return ""
	}, func(id string) error {
		_, err := s.Release(ctx, id, b.Note)
		return err
	})
}

// BulkReevaluate re-evaluates every selected order not canceled by an
// operator, each in its own transaction, with the note on its timeline.
func (s *Service) BulkReevaluate(ctx context.Context, b Bulk) (BulkResult, error) {
	k, err := host.Authorize(ctx, host.RoleOperator)
	if err != nil {
		return BulkResult{}, err
	}
	return s.bulk(ctx, b, func(r *host.Record) string {
		if r.Status == sdk.StatusCanceled && r.Cancellation != nil && r.Cancellation.By != "workflow" {
			return "order was canceled by an operator; cancellation is final"
		}
		return ""
	}, func(id string) error {
		_, err := s.reevaluateNoted(ctx, id, k.Actor(), b.Note)
		return err
	})
}

// BulkCancel cancels every selected order not canceled yet, each in its
// own transaction with its own timeline entry.
func (s *Service) BulkCancel(ctx context.Context, b Bulk) (BulkResult, error) {
	return s.bulk(ctx, b, func(r *host.Record) string {
		if r.Status == sdk.StatusCanceled {
			return "order is canceled already"
		}
		return ""
	}, func(id string) error {
		_, err := s.Cancel(ctx, id, b.Note)
		return err
	})
}

// bulk selects the orders, skips those skip gives a reason for, and acts
// on the others.
func (s *Service) bulk(ctx context.Context, b Bulk, skip func(*host.Record) string, act func(id string) error) (BulkResult, error) {
	res := BulkResult{Skipped: []BulkSkip{}, Failed: []BulkFailed{}}
	if _, err := host.Authorize(ctx, host.RoleOperator); err != nil {
		return res, err
	}
	selected, err := s.selectBulk(ctx, b)
	if err != nil {
		return res, err
	}
	for _, r := range selected {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if why := skip(r); why != "" {
			res.Skipped = append(res.Skipped, BulkSkip{ID: r.ID, Reason: why})
			continue
		}
		if b.DryRun {
			res.Matched++
			continue
		}
		if err := act(r.ID); err != nil {
			// Changed meanwhile (by a person or the timer): say so.
			if host.ErrorCode(err) == host.ECONFLICT {
				res.Skipped = append(res.Skipped, BulkSkip{ID: r.ID, Reason: err.Error()})
				continue
			}
			res.Failed = append(res.Failed, BulkFailed{ID: r.ID, Error: err.Error()})
			continue
		}
		res.Changed++
	}
	if !b.DryRun {
		res.Matched = len(selected)
	}
	return res, nil
}

// selectBulk reads the orders a bulk action selects: by id (an unknown id
// is an error naming it) or by filter, at most MaxBulk.
func (s *Service) selectBulk(ctx context.Context, b Bulk) ([]*host.Record, error) {
	if b.Filter == nil {
		out := make([]*host.Record, 0, len(b.IDs))
		var missing []sdk.FieldError
		seen := map[string]bool{}
		for i, id := range b.IDs {
			if seen[id] {
				continue
			}
			seen[id] = true
			r, err := s.store.Order(ctx, id)
			switch {
			case host.ErrorCode(err) == host.ENOTFOUND:
				missing = append(missing, sdk.FieldError{Field: fmt.Sprintf("ids[%d]", i), Detail: fmt.Sprintf("order %s not found", id)})
			case err != nil:
				return nil, err
			default:
				out = append(out, r)
			}
		}
		if len(missing) > 0 {
			return nil, host.InvalidFields("some ids are not orders; nothing was changed", missing)
		}
		return out, nil
	}
	f := *b.Filter
	f.After, f.Limit, f.Basic = "", 200, true // skip reads the status and cancellation only
	var out []*host.Record
	for {
		page, next, err := s.store.ListOrders(ctx, f)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(out) > MaxBulk {
			return nil, host.Errorf(host.EINVALID, "the filters select more than %d orders; narrow them (imported_before, channel_id, ...) or act in several calls", MaxBulk)
		}
		if next == "" {
			return out, nil
		}
		f.After = next
	}
}
