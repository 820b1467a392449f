// Package orders is the import workflow: it validates an incoming order,
// has the policy engine decide on it, and stores it with its decision; and
// it carries out what operators do to stored orders (release, cancel,
// re-evaluate). Every path into the store, B2B intake and connector
// imports alike, goes through Service.
package orders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/oklog/ulid/v2"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

// Workflow decides on orders; *policy.Engine is the real one.
type Workflow interface {
	Evaluate(ctx context.Context, in *policy.Input) *sdk.Decision
}

// Service is the import workflow.
type Service struct {
	store    host.OrderStore
	workflow Workflow
	log      hclog.Logger
	now      func() time.Time
}

// NewService returns a Service storing into store and deciding with workflow.
func NewService(store host.OrderStore, workflow Workflow, log hclog.Logger) *Service {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Service{store: store, workflow: workflow, log: log.Named("orders"), now: func() time.Time { return time.Now().UTC() }}
}

// Incoming is one order offered for import.
type Incoming struct {
	Order          *sdk.Order
	IdempotencyKey string
	RequestHash    string
}

// Result is the outcome of importing one order.
type Result struct {
	Record  *host.Record
	Created bool
	Err     error
}

// Import validates, decides and stores orders of one channel. Invalid
// orders fail alone (Result.Err); the error return is for failures of the
// store, in which case nothing was acknowledged.
func (s *Service) Import(ctx context.Context, ch *host.Channel, incoming []Incoming) ([]Result, error) {
	results := make([]Result, len(incoming))
	batch := make([]host.NewOrder, 0, len(incoming))
	index := make([]int, 0, len(incoming))
	for i, in := range incoming {
		r, err := s.prepare(ctx, ch, in.Order)
		if err != nil {
			results[i].Err = err
			continue
		}
		batch = append(batch, host.NewOrder{Record: r, IdempotencyKey: in.IdempotencyKey, RequestHash: in.RequestHash})
		index = append(index, i)
	}
	if len(batch) == 0 {
		return results, nil
	}
	stored, err := s.store.CreateOrders(ctx, batch)
	if err != nil {
		return nil, err
	}
	for j, res := range stored {
		results[index[j]] = Result{Record: res.Record, Created: res.Created, Err: res.Err}
		if res.Created {
			s.log.Debug("order imported", "order", res.Record.ID, "channel", ch.ID, "number", res.Record.Number, "status", res.Record.Status)
		}
	}
	return results, nil
}

// prepare validates one order and turns it into a record with its decision.
func (s *Service) prepare(ctx context.Context, ch *host.Channel, o *sdk.Order) (*host.Record, error) {
	if o.ChannelID != "" && o.ChannelID != ch.ID {
		return nil, host.InvalidFields("the order names another channel than the one it is imported into",
			[]sdk.FieldError{{Field: "channel_id", Detail: fmt.Sprintf("is %q but the order is imported into channel %q", o.ChannelID, ch.ID)}})
	}
	o.ChannelID = ""
	if err := o.Validate(); err != nil {
		var ve sdk.ValidationError
		if errors.As(err, &ve) {
			return nil, host.InvalidFields("the order is not valid", ve)
		}
		return nil, err
	}
	now := s.now()
	r := &host.Record{Order: *o}
	r.ID = ulid.MustNew(ulid.Timestamp(now), ulid.DefaultEntropy()).String()
	r.ChannelID = ch.ID
	r.ImportedAt = &now
	r.Events = []sdk.Event{{At: now, Type: sdk.EventImported, Actor: "channel:" + ch.ID}}
	d := s.workflow.Evaluate(ctx, &policy.Input{Order: r.Received(), Channel: policy.ChannelInput{ID: ch.ID, Kind: ch.Kind}, Now: now})
	r.Decide(d, "workflow", sdk.EventDecision)
	if d.Error != "" {
		s.log.Warn("workflow could not decide; order held with policy_error", "order", r.ID, "channel", ch.ID, "error", d.Error)
	}
	return r, nil
}

// Evaluate is a dry run: the decision the live policies would make for the
// order, with nothing stored.
func (s *Service) Evaluate(ctx context.Context, ch *host.Channel, o *sdk.Order) (*sdk.Decision, *sdk.Order, error) {
	r, err := s.prepare(ctx, ch, o)
	if err != nil {
		return nil, nil, err
	}
	return r.LatestDecision(), r.View(), nil
}

// Release approves an order on hold.
func (s *Service) Release(ctx context.Context, id, actor, note string) (*host.Record, error) {
	return s.store.UpdateOrder(ctx, id, func(r *host.Record) error { return r.Release(actor, note, s.now()) })
}

// Cancel cancels an order by an operator's hand.
func (s *Service) Cancel(ctx context.Context, id, actor, reason string) (*host.Record, error) {
	return s.store.UpdateOrder(ctx, id, func(r *host.Record) error { return r.Cancel(actor, reason, s.now()) })
}

// errChanged signals that the order changed between evaluation and write.
var errChanged = errors.New("order changed during re-evaluation")

// Reevaluate runs the live policies again on the order as it was received
// and records the new decision. The evaluation runs outside the write
// transaction; if the order changed meanwhile it is evaluated again.
func (s *Service) Reevaluate(ctx context.Context, ch *host.Channel, id, actor string) (*host.Record, error) {
	for attempt := 0; ; attempt++ {
		r, err := s.store.Order(ctx, id)
		if err != nil {
			return nil, err
		}
		if r.Status == sdk.StatusCanceled && r.Cancellation != nil && r.Cancellation.By != "workflow" {
			return nil, host.Errorf(host.ECONFLICT, "order %s was canceled by an operator; cancellation is final", id)
		}
		seen := r.UpdatedAt
		now := s.now()
		d := s.workflow.Evaluate(ctx, &policy.Input{Order: r.Received(), Channel: policy.ChannelInput{ID: ch.ID, Kind: ch.Kind}, Now: now})
		updated, err := s.store.UpdateOrder(ctx, id, func(cur *host.Record) error {
			if !sameTime(cur.UpdatedAt, seen) {
				return errChanged
			}
			cur.Decide(d, actor, sdk.EventReevaluate)
			return nil
		})
		if errors.Is(err, errChanged) && attempt < 5 {
			continue
		}
		return updated, err
	}
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
