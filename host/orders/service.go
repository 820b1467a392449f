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
	"slices"
	"strings"
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

// Store is what the workflow reads and writes: orders, the channels they
// come from, and the catalog data the built-in hold reasons decide on.
type Store interface {
	host.OrderStore
	host.ChannelStore
	host.CatalogStore
}

// Service is the import workflow.
type Service struct {
	store    Store
	workflow Workflow
	log      hclog.Logger
	now      func() time.Time
	// recorded, when set, is told of orders whose new decision was just
	// committed (the rule statistics).
	recorded func(records ...*host.Record)
	// flights line up the look-alikes being imported (see inflight.go).
	flights *flights
	// deciders decide the groups of a call in parallel (deciders.go).
	deciders *deciders
}

// NewService returns a Service storing into store and deciding with workflow.
func NewService(store Store, workflow Workflow, log hclog.Logger) *Service {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Service{store: store, workflow: workflow, log: log.Named("orders"), now: func() time.Time { return time.Now().UTC() }, flights: newFlights(), deciders: newDeciders()}
}

// SetClock sets the clock the service's times come from (UTC time.Now by
// default); call it before the service serves.
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// OnDecisionsRecorded sets a function told of the orders whose new
// decision was just committed, on import and on every re-evaluation;
// call it before the service serves.
func (s *Service) OnDecisionsRecorded(fn func(records ...*host.Record)) { s.recorded = fn }

func (s *Service) decisionsRecorded(records ...*host.Record) {
	if s.recorded != nil && len(records) > 0 {
		s.recorded(records...)
	}
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
	// Updated is set when a connector sent an order imported before that
	// the channel has changed (or canceled) since.
	Updated bool
	Err     error
}

// Import validates, decides and stores orders of one channel. Invalid
// orders fail alone (Result.Err); the error return is for failures of the
// store, in which case nothing was acknowledged. An order the channel has
// imported before (by external id, or Idempotency-Key) is answered as it
// is stored.
//
// The orders of one call are decided in parallel, up to GOMAXPROCS at a
// time, except that look-alikes (the same duplicate fingerprint) are
// decided one after another in arrival order: whether a later one is a
// duplicate depends on the earlier one's decision.
func (s *Service) Import(ctx context.Context, ch *host.Channel, incoming []Incoming) ([]Result, error) {
	return s.importOrders(ctx, ch, incoming, nil)
}

// ImportPage imports one page of a connector's import run. It is Import
// with two differences. An order imported before that the channel sends
// changed is updated (see ChannelUpdate) rather than answered as stored.
// And the page's new orders, its cursor and the run with the page counted
// are committed in one transaction; ImportPage returns that run. lease,
// when hosts share the store, fences the commit (host.ErrLeaseLost).
func (s *Service) ImportPage(ctx context.Context, ch *host.Channel, run *host.Run, page sdk.Page, lease *host.Lease) ([]Result, *host.Run, error) {
	p, err := s.PreparePage(ctx, ch, page, lease)
	if err != nil {
		return nil, nil, err
	}
	return p.Commit(ctx, func() *host.Run { return run }, nil)
}

// PendingPage is a connector's page prepared for import (PreparePage):
// its orders imported before are answered, and its new orders are lined
// up among the look-alikes in flight, not decided or stored yet. Pages
// prepared one after another are lined up in that order, so an importer
// can decide a page while the one before it commits.
type PendingPage struct {
	s     *Service
	call  *importCall
	page  sdk.Page
	lease *host.Lease
}

// PreparePage prepares one page of a connector's import run. Commit must
// follow, also when the import stops, to take the page's orders out of
// the line.
func (s *Service) PreparePage(ctx context.Context, ch *host.Channel, page sdk.Page, lease *host.Lease) (*PendingPage, error) {
	incoming := make([]Incoming, len(page.Orders))
	for i := range page.Orders {
		o := page.Orders[i]
		o.ChannelID = ""
		incoming[i] = Incoming{Order: &o}
	}
	call, err := s.prepareImport(ctx, ch, incoming, true)
	if err != nil {
		return nil, err
	}
	return &PendingPage{s: s, call: call, page: page, lease: lease}, nil
}

// Commit decides the page's new orders and commits them, the page's
// cursor and the run with the page counted in one transaction, and
// returns that run. base is the run as committed before this page, read
// when the page commits. before, when not nil, is waited for just before
// the first commit (the previous page's commit, so that pages commit in
// their order); when it fails, nothing is committed and Commit returns
// its error.
func (p *PendingPage) Commit(ctx context.Context, base func() *host.Run, before func(context.Context) error) ([]Result, *host.Run, error) {
	incoming := p.call.incoming
	count := func(results []Result) *host.Run {
		return base().WithPage(pageOrders(incoming, results), p.page.Problems, p.page.Cursor)
	}
	p.call.page = &pageCommit{cursor: p.page.Cursor, count: count, lease: p.lease, before: before}
	results, err := p.s.finishImport(ctx, p.call)
	if err != nil {
		return nil, nil, err
	}
	return results, count(results), nil
}

// pageCommit is how importOrders commits a connector's page.
type pageCommit struct {
	cursor string
	count  func([]Result) *host.Run
	lease  *host.Lease
	// before, when not nil, is waited for before the first commit.
	before func(context.Context) error
}

// pageOrders says what became of each order of a page.
func pageOrders(incoming []Incoming, results []Result) []host.PageOrder {
	out := make([]host.PageOrder, len(results))
	for i, res := range results {
		p := host.PageOrder{ExternalID: incoming[i].Order.ExternalID}
		switch {
		case res.Err != nil:
			p.Outcome, p.Err = host.OutcomeRejected, res.Err
		case res.Created:
			p.Outcome, p.Held = host.OutcomeCreated, res.Record.Status == sdk.StatusOnHold
		case res.Updated:
			p.Outcome = host.OutcomeUpdated
		default:
			p.Outcome = host.OutcomeExisting
		}
		out[i] = p
	}
	return out
}

func (s *Service) importOrders(ctx context.Context, ch *host.Channel, incoming []Incoming, page *pageCommit) ([]Result, error) {
	call, err := s.prepareImport(ctx, ch, incoming, page != nil)
	if err != nil {
		return nil, err
	}
	call.page = page
	return s.finishImport(ctx, call)
}

// importCall is one import call between its preparation and its commit.
type importCall struct {
	ch       *host.Channel
	incoming []Incoming
	// results holds the answers known before deciding (orders stored
	// before, orders rejected); pending are the new orders, each at
	// index[j] of incoming.
	results []Result
	pending []*prepared
	index   []int
	page    *pageCommit // nil for an API import
}

// prepareImport answers the orders of a call stored before (for a page,
// updating those the channel changed), makes records of the new ones and
// lines them up among the look-alikes in flight.
func (s *Service) prepareImport(ctx context.Context, ch *host.Channel, incoming []Incoming, isPage bool) (*importCall, error) {
	results := make([]Result, len(incoming))
	// Orders imported before are answered without evaluating them again
	// (connectors re-read overlapping windows). With an Idempotency-Key
	// the store must compare the request, so those go the whole way.
	var known []string
	for _, in := range incoming {
		if in.IdempotencyKey == "" && in.Order.ExternalID != "" {
			known = append(known, in.Order.ExternalID)
		}
	}
	stored, err := s.store.OrdersByExternalID(ctx, ch.ID, known)
	if err != nil {
		return nil, err
	}
	var pending []*prepared
	var index []int
	for i, in := range incoming {
		if r := stored[in.Order.ExternalID]; r != nil && in.IdempotencyKey == "" {
			results[i] = Result{Record: r}
			if isPage {
				results[i] = s.resent(ctx, ch, r, in.Order)
			}
			continue
		}
		r, err := s.newRecord(ch, in.Order)
		if err != nil {
			results[i].Err = err
			continue
		}
		pending = append(pending, &prepared{record: r, fingerprint: host.Fingerprint(r.Input())})
		index = append(index, i)
	}
	// New orders wait for the look-alikes of other calls ahead of them
	// (inflight.go).
	s.flights.join(pending)
	return &importCall{ch: ch, incoming: incoming, results: results, pending: pending, index: index}, nil
}

// finishImport decides a prepared call's new orders and stores them. One
// whose look-alike another host committed while it was decided is refused
// by the store (host.ErrLookAlikeRaced) and decided again, now seeing the
// look-alike. A page's cursor and run commit with the attempt in which no
// order raced.
func (s *Service) finishImport(ctx context.Context, call *importCall) ([]Result, error) {
	ch, incoming, results, pending, index, page := call.ch, call.incoming, call.results, call.pending, call.index, call.page
	defer func() { s.flights.leave(pending) }()
	if len(pending) == 0 && page == nil {
		return results, nil
	}
	for attempt := 1; ; attempt++ {
		if len(pending) > 0 {
			if err := s.decideAll(ctx, ch, pending); err != nil {
				return nil, err
			}
			if err := waitQueued(ctx, pending); err != nil {
				return nil, fmt.Errorf("waiting for look-alikes imported meanwhile: %w", err)
			}
		}
		batch := make([]host.NewOrder, len(pending))
		for j, p := range pending {
			in := incoming[index[j]]
			if p.check != nil {
				p.check.Queued = p.flight.markQueued
			} else {
				p.flight.markQueued() // the store checks no look-alikes for it
			}
			batch[j] = host.NewOrder{Record: p.record, IdempotencyKey: in.IdempotencyKey, RequestHash: in.RequestHash, LookAlikes: p.check}
		}
		// merge puts the store's results in the places of the orders it stored.
		merge := func(created []host.CreateResult) []Result {
			out := slices.Clone(results)
			for j, res := range created {
				out[index[j]] = Result{Record: res.Record, Created: res.Created, Err: res.Err}
			}
			return out
		}
		var created []host.CreateResult
		var err error
		if page == nil {
			created, err = s.store.CreateOrders(ctx, batch)
		} else {
			if page.before != nil && attempt == 1 {
				if err := page.before(ctx); err != nil {
					return nil, err
				}
			}
			created, err = s.store.CommitPage(ctx, batch, host.PageCommit{ChannelID: ch.ID, Cursor: page.cursor, Lease: page.lease,
				Run: func(stored []host.CreateResult) *host.Run { return page.count(merge(stored)) }})
		}
		if err != nil {
			return nil, err
		}
		results = merge(created)
		var raced []*prepared
		var racedIndex []int
		for j, res := range created {
			if errors.Is(res.Err, host.ErrLookAlikeRaced) {
				r, err := s.newRecord(ch, incoming[index[j]].Order)
				if err != nil {
					return nil, err
				}
				raced = append(raced, &prepared{record: r, fingerprint: pending[j].fingerprint})
				racedIndex = append(racedIndex, index[j])
			}
		}
		if len(raced) == 0 {
			break
		}
		if attempt == maxRaceAttempts {
			return nil, host.Errorf(host.EUNAVAILABLE, "look-alikes of %d orders kept being stored while they were decided (%d times); try again", len(raced), attempt)
		}
		s.log.Debug("deciding orders again: a look-alike was stored meanwhile", "orders", len(raced), "channel", ch.ID)
		s.flights.leave(pending)
		pending, index = raced, racedIndex
		s.flights.join(pending)
	}
	var decided []*host.Record
	for _, res := range results {
		if res.Created {
			decided = append(decided, res.Record)
			s.log.Debug("order imported", "order", res.Record.ID, "channel", ch.ID, "number", res.Record.Number, "status", res.Record.Status)
		}
	}
	s.decisionsRecorded(decided...)
	return results, nil
}

// maxRaceAttempts bounds how often an import call decides orders again
// because look-alikes were stored meanwhile.
const maxRaceAttempts = 5

// resent handles an order a connector sent again: unchanged, it is the
// stored one; changed in the channel, it updates the stored one. A failed
// update rejects the order for this page (the connector sends it again).
func (s *Service) resent(ctx context.Context, ch *host.Channel, r *host.Record, o *sdk.Order) Result {
	if len(host.ChangedFields(r.Received(), o)) == 0 {
		return Result{Record: r}
	}
	updated, err := s.ChannelUpdate(ctx, ch, r.ID, o)
	if err != nil {
		return Result{Err: err}
	}
	return Result{Record: updated, Updated: true}
}

// prepared is an order of an import call that is not stored yet, with its
// duplicate fingerprint, its place in the line of its look-alikes (nil
// for a dry run) and, once decided, the look-alike check its commit
// makes.
type prepared struct {
	record      *host.Record
	fingerprint string
	flight      *flight
	check       *host.LookAlikeCheck
}

// decideAll decides the records of one import call. Records with the same
// fingerprint form a group decided in order, each seeing the group's
// earlier records as look-alikes not stored yet; groups are independent
// and run in parallel on the service's deciders and the caller's goroutine.
func (s *Service) decideAll(ctx context.Context, ch *host.Channel, pending []*prepared) error {
	var groups [][]*prepared
	byFingerprint := make(map[string]int, len(pending))
	for _, p := range pending {
		g, ok := byFingerprint[p.fingerprint]
		if !ok {
			g = len(groups)
			byFingerprint[p.fingerprint] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], p)
	}
	decideGroup := func(ctx context.Context, g int) error {
		for k, p := range groups[g] {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := waitDecided(ctx, p); err != nil {
				return fmt.Errorf("waiting for look-alikes imported meanwhile: %w", err)
			}
			if err := s.decide(ctx, ch, p, groups[g][:k]); err != nil {
				return err
			}
			if p.flight != nil {
				p.flight.markDecided(true)
			}
		}
		return nil
	}
	if len(groups) == 1 {
		return decideGroup(ctx, 0)
	}
	// The first failure cancels the groups not decided yet.
	return s.deciders.run(ctx, len(groups), decideGroup)
}

// newRecord validates one order and turns it into a record, not decided
// yet.
func (s *Service) newRecord(ch *host.Channel, o *sdk.Order) (*host.Record, error) {
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
	return r, nil
}

// decide has the workflow decide on a new record and records the
// decision. earlier are look-alikes of the same import not stored yet: they
// are duplicates as much as stored ones.
func (s *Service) decide(ctx context.Context, ch *host.Channel, p *prepared, earlier []*prepared) error {
	r := p.record
	var ahead []*prepared
	if p.flight != nil {
		ahead = p.flight.ahead
	}
	d, facts, check, err := s.evaluate(ctx, ch, r, p.fingerprint, ahead, earlier, *r.ImportedAt)
	if err != nil {
		return err
	}
	p.check = check
	r.Decide(d, "workflow", sdk.EventDecision)
	r.DecidedWith = facts
	if d.Error != "" {
		s.log.Warn("workflow could not decide; order held with policy_error", "order", r.ID, "channel", ch.ID, "error", d.Error)
	}
	if r.CanceledAt != nil && !r.CanceledByHand() {
		// Canceled in the channel before it was first imported.
		return r.Cancel("channel:"+ch.ID, host.ChannelCancellation(&r.Order), d.EvaluatedAt)
	}
	return nil
}

// EvaluateStored is a dry run of a re-evaluation: the decision the live
// policies would make for the stored order now, on the facts of now,
// with nothing stored.
func (s *Service) EvaluateStored(ctx context.Context, id string) (*sdk.Decision, error) {
	if _, err := host.Authorize(ctx, host.RoleOperator); err != nil {
		return nil, err
	}
	r, err := s.store.Order(ctx, id)
	if err != nil {
		return nil, err
	}
	ch, err := s.store.Channel(ctx, r.ChannelID)
	if err != nil {
		return nil, fmt.Errorf("the channel of order %s: %w", id, err)
	}
	d, _, _, err := s.evaluate(ctx, ch, r, host.Fingerprint(r.Input()), nil, nil, s.now())
	return d, err
}

// Evaluate is a dry run: the decision the live policies would make for the
// order, with nothing stored.
func (s *Service) Evaluate(ctx context.Context, ch *host.Channel, o *sdk.Order) (*sdk.Decision, *sdk.Order, error) {
	r, err := s.newRecord(ch, o)
	if err != nil {
		return nil, nil, err
	}
	if err := s.decide(ctx, ch, &prepared{record: r, fingerprint: host.Fingerprint(r.Input())}, nil); err != nil {
		return nil, nil, err
	}
	return r.LatestDecision(), r.View(), nil
}

// factsQuery asks for the facts of record r as an order of the channel.
func factsQuery(channelID string, r *host.Record, fingerprint string) host.FactsQuery {
	o := r.Input()
	q := host.FactsQuery{ChannelID: channelID, Fingerprint: fingerprint, PlacedAt: o.PlacedAt, Before: r.ID, CustomerEmail: host.NormalizeEmail(o.Customer.Email)}
	for _, li := range o.LineItems {
		if li.SKU != "" && !slices.Contains(q.SKUs, li.SKU) {
			q.SKUs = append(q.SKUs, li.SKU)
		}
	}
	return q
}

// FactsNow returns the facts the workflow would be given for the order
// now (input.context): what explains its holds to an operator, such as
// the stock per source or the look-alike orders. It changes nothing.
func (s *Service) FactsNow(ctx context.Context, r *host.Record) (*host.OrderContext, error) {
	if _, err := host.Authorize(ctx, host.RoleOperator); err != nil {
		return nil, err
	}
	facts, err := s.store.Facts(ctx, factsQuery(r.ChannelID, r, host.Fingerprint(r.Input())))
	if err != nil {
		return nil, fmt.Errorf("reading the facts of order %s: %w", r.ID, err)
	}
	return host.BuildContext(r.Input(), facts), nil
}

// evaluate computes the facts of record r (input.context) and evaluates
// the workflow on it. fingerprint is r's duplicate fingerprint. Only
// orders imported before r count as its duplicates: those stored, those
// of other calls ahead of it in line and decided (ahead), and the earlier
// ones of its own call (earlier).
func (s *Service) evaluate(ctx context.Context, ch *host.Channel, r *host.Record, fingerprint string, ahead, earlier []*prepared, now time.Time) (*sdk.Decision, *host.OrderContext, *host.LookAlikeCheck, error) {
	o := r.Input()
	q := factsQuery(ch.ID, r, fingerprint)
	facts, err := s.store.Facts(ctx, q)
	if err != nil {
		return nil, nil, nil, err
	}
	var check *host.LookAlikeCheck
	if dp := facts.Settings.DuplicateProtection; dp.Enabled && fingerprint != "" {
		check = &host.LookAlikeCheck{Fingerprint: fingerprint, PlacedAt: o.PlacedAt, Window: dp.WindowDuration(), Horizon: facts.DuplicateHorizon}
		var unstored []*prepared
		for _, p := range ahead {
			// One the facts' horizon covers was stored when they were read
			// (or another host stored a later look-alike): it is counted.
			if p.flight.ok && p.record.ID > facts.DuplicateHorizon {
				unstored = append(unstored, p)
			}
		}
		for _, p := range append(unstored, earlier...) {
			e := p.record
			if e.Status != sdk.StatusCanceled && p.fingerprint == q.Fingerprint && within(e.PlacedAt, o.PlacedAt, dp.WindowDuration()) {
				facts.AddLookAlikes(host.DuplicateCandidate{
					ID: e.ID, ChannelID: e.ChannelID, ExternalID: e.ExternalID, Number: e.Number, PlacedAt: e.PlacedAt, Status: e.Status,
				})
				check.Seen = append(check.Seen, e.ID)
			}
		}
	}
	in := &policy.Input{Order: o, Channel: policy.ChannelInput{ID: ch.ID, Kind: ch.Kind}, Now: now, Context: host.BuildContext(o, facts)}
	return s.workflow.Evaluate(ctx, in), in.Context, check, nil
}

func within(a, b time.Time, window time.Duration) bool {
	d := a.Sub(b)
	return d <= window && d >= -window
}

// Release approves an order on hold.
func (s *Service) Release(ctx context.Context, id, note string) (*host.Record, error) {
	k, err := host.Authorize(ctx, host.RoleOperator)
	if err != nil {
		return nil, err
	}
	return s.store.UpdateOrder(ctx, id, func(r *host.Record) error { return r.Release(k.Actor(), note, s.now()) })
}

// Cancel cancels an order by an operator's hand.
func (s *Service) Cancel(ctx context.Context, id, reason string) (*host.Record, error) {
	k, err := host.Authorize(ctx, host.RoleOperator)
	if err != nil {
		return nil, err
	}
	return s.store.UpdateOrder(ctx, id, func(r *host.Record) error { return r.Cancel(k.Actor(), reason, s.now()) })
}

// errChanged signals that the order changed between evaluation and write;
// after the last attempt it is the answer: a conflict (409), to retry.
var errChanged = host.Errorf(host.ECONFLICT, "the order kept changing while it was re-evaluated; try again")

// Edit records an operator's edit of an order. When it changes fields the
// rules read and the order is not canceled, the order is re-evaluated, so
// fixing a shipping method clears its hold at once.
func (s *Service) Edit(ctx context.Context, id string, e *sdk.Edit, note string) (*host.Record, error) {
	k, err := host.Authorize(ctx, host.RoleOperator)
	if err != nil {
		return nil, err
	}
	actor := k.Actor()
	if errs := host.ValidateEdit(e); len(errs) > 0 {
		return nil, host.InvalidFields("the edit is not valid", errs)
	}
	r, err := s.store.UpdateOrder(ctx, id, func(r *host.Record) error { return r.Edit(actor, e, note, s.now()) })
	if err != nil || len(e.Fields) == 0 {
		return r, err
	}
	return s.reevaluate(ctx, id, actor)
}

// Reevaluate runs the live policies again on the order as it was received
// (with the operators' field edits) and the facts as they are now, and
// records the new decision. The evaluation runs outside the write
// transaction; if the order changed meanwhile it is evaluated again.
func (s *Service) Reevaluate(ctx context.Context, id string) (*host.Record, error) {
	k, err := host.Authorize(ctx, host.RoleOperator)
	if err != nil {
		return nil, err
	}
	return s.reevaluate(ctx, id, k.Actor())
}

// reevaluate is Reevaluate by actor, for the service's own callers.
func (s *Service) reevaluate(ctx context.Context, id, actor string) (*host.Record, error) {
	return s.reevaluateNoted(ctx, id, actor, "")
}

// reevaluateNoted re-evaluates with an operator's note on the timeline
// entry (a bulk re-evaluation says why).
func (s *Service) reevaluateNoted(ctx context.Context, id, actor, note string) (*host.Record, error) {
	for attempt := 0; ; attempt++ {
		r, err := s.store.Order(ctx, id)
		if err != nil {
			return nil, err
		}
		if r.Status == sdk.StatusCanceled && r.Cancellation != nil && r.Cancellation.By != "workflow" {
			return nil, host.Errorf(host.ECONFLICT, "order %s was canceled by an operator; cancellation is final", id)
		}
		ch, err := s.store.Channel(ctx, r.ChannelID)
		if err != nil {
			return nil, fmt.Errorf("the channel of order %s: %w", id, err)
		}
		seen := r.UpdatedAt
		d, facts, _, err := s.evaluate(ctx, ch, r, host.Fingerprint(r.Input()), nil, nil, s.now())
		if err != nil {
			return nil, err
		}
		updated, err := s.store.UpdateOrder(ctx, id, func(cur *host.Record) error {
			if !sameTime(cur.UpdatedAt, seen) {
				return errChanged
			}
			cur.Decide(d, actor, sdk.EventReevaluate)
			cur.DecidedWith = facts
			if last := &cur.Events[len(cur.Events)-1]; note != "" && last.Type == sdk.EventReevaluate {
				last.Message = strings.TrimSpace(last.Message + "\n" + note)
			}
			return nil
		})
		if errors.Is(err, errChanged) && attempt < 5 {
			continue
		}
		if err == nil {
			s.decisionsRecorded(updated)
		}
		return updated, err
	}
}

// errNothingDue ends a timer's update that finds no hold due.
var errNothingDue = errors.New("no timed hold is due")

// LiftDueHolds acts on the order's timed holds due now, as system:timer
// (the host's timer calls it): release holds lift and review holds fall
// due for review (Record.LiftDue), and the order is re-evaluated on the
// facts of now. It is idempotent: an order with nothing due is left as it
// is, so a hold lifts once however many timers (hosts) call it. It
// reports whether anything was due.
func (s *Service) LiftDueHolds(ctx context.Context, id string) (*host.Record, bool, error) {
	var wasDue []sdk.Hold
	for attempt := 0; ; attempt++ {
		r, err := s.store.Order(ctx, id)
		if err != nil {
			return nil, false, err
		}
		now := s.now()
		if due := r.DueAt(); due == nil || due.After(now) {
			// An operator's release may have won the race against this
			// timer: the timeline says the hold fell due after it.
			if len(wasDue) > 0 {
				return s.dueAfterRelease(ctx, id, wasDue, now)
			}
			return r, false, nil
		}
		wasDue = slices.DeleteFunc(slices.Clone(r.Holds), func(h sdk.Hold) bool { return !h.Due(now) })
		ch, err := s.store.Channel(ctx, r.ChannelID)
		if err != nil {
			return nil, false, fmt.Errorf("the channel of order %s: %w", id, err)
		}
		seen := r.UpdatedAt
		d, facts, _, err := s.evaluate(ctx, ch, r, host.Fingerprint(r.Input()), nil, nil, now)
		if err != nil {
			return nil, false, err
		}
		updated, err := s.store.UpdateOrder(ctx, id, func(cur *host.Record) error {
			if !sameTime(cur.UpdatedAt, seen) {
				return errChanged
			}
			if lifted, review := cur.LiftDue(host.ActorTimer, now); len(lifted)+len(review) == 0 {
				return errNothingDue
			}
			cur.Decide(d, host.ActorTimer, sdk.EventReevaluate)
			cur.DecidedWith = facts
			return nil
		})
		switch {
		case errors.Is(err, errChanged) && attempt < 5:
			continue
		case errors.Is(err, errNothingDue):
			return r, false, nil
		case err != nil:
			return nil, false, fmt.Errorf("acting on the due holds of order %s: %w", id, err)
		}
		s.decisionsRecorded(updated)
		return updated, true, nil
	}
}

// dueAfterRelease records on the timeline that timed holds fell due
// after a person released them (the release won a race with the timer),
// if they were released: nothing else changes.
func (s *Service) dueAfterRelease(ctx context.Context, id string, holds []sdk.Hold, now time.Time) (*host.Record, bool, error) {
	updated, err := s.store.UpdateOrder(ctx, id, func(cur *host.Record) error {
		if !cur.FellDueReleased(holds, host.ActorTimer, now) {
			return errNothingDue
		}
		return nil
	})
	if errors.Is(err, errNothingDue) {
		return nil, false, nil
	}
	return updated, false, err
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// ChannelUpdate applies a change the channel made to an order imported
// before; o is the order as the channel sends it now. A cancellation in
// the channel (o.CanceledAt) cancels the order, with actor
// "channel:<channel id>", unless it is canceled already. Any other change
// is recorded on the timeline as channel_updated with the fields that
// changed, replaces the order as received, and re-evaluates it, with the
// documented rules: holds an operator released stay released while their
// facts are unchanged, and operators' edits stay. An order canceled by a
// person or its channel only records the change: its cancellation is final.
func (s *Service) ChannelUpdate(ctx context.Context, ch *host.Channel, id string, o *sdk.Order) (*host.Record, error) {
	if err := o.Validate(); err != nil {
		var ve sdk.ValidationError
		if errors.As(err, &ve) {
			return nil, host.InvalidFields("the changed order is not valid", ve)
		}
		return nil, err
	}
	actor := "channel:" + ch.ID
	for attempt := 0; ; attempt++ {
		r, err := s.store.Order(ctx, id)
		if err != nil {
			return nil, err
		}
		changed := host.ChangedFields(r.Received(), o)
		if len(changed) == 0 {
			return r, nil
		}
		// The decision is made on the changed order, outside the write
		// transaction; if the order changes meanwhile, all is done again.
		// One time for the change and the decision it leads to, so the
		// timeline has them in order.
		now := s.now()
		var d *sdk.Decision
		var facts *host.OrderContext
		if o.CanceledAt == nil && !r.CanceledByHand() {
			probe := *r
			probe.ChannelUpdate(o, actor, changed, now)
			if d, facts, _, err = s.evaluate(ctx, ch, &probe, host.Fingerprint(probe.Input()), nil, nil, now); err != nil {
				return nil, err
			}
		}
		seen := r.UpdatedAt
		decided := false
		updated, err := s.store.UpdateOrder(ctx, id, func(cur *host.Record) error {
			decided = false
			if !sameTime(cur.UpdatedAt, seen) {
				return errChanged
			}
			cur.ChannelUpdate(o, actor, changed, now)
			switch {
			case cur.Status == sdk.StatusCanceled && (cur.CanceledByHand() || o.CanceledAt != nil):
			case o.CanceledAt != nil:
				return cur.Cancel(actor, host.ChannelCancellation(o), now)
			case d != nil:
				cur.Decide(d, actor, sdk.EventReevaluate)
				cur.DecidedWith = facts
				decided = true
			}
			return nil
		})
		if errors.Is(err, errChanged) && attempt < 5 {
			continue
		}
		if err == nil {
			s.log.Info("order changed in its channel", "order", id, "channel", ch.ID, "fields", changed, "status", updated.Status)
			if decided {
				s.decisionsRecorded(updated)
			}
		}
		return updated, err
	}
}

// Summary counts what a bulk re-evaluation did.
type Summary struct {
	// Matched orders were re-evaluated.
	Matched int `json:"matched"`
	// Opened orders were on hold before and are open now.
	Opened int `json:"opened"`
	// StillHeld orders are on hold after re-evaluation.
	StillHeld int `json:"still_held"`
	// Failed orders could not be re-evaluated (e.g. canceled meanwhile).
	Failed int `json:"failed"`
}

// ReevaluateMatching re-evaluates every order the filter selects (the
// filter's cursor and limit are ignored: all pages are walked), e.g. all
// orders on hold for insufficient_quantity after a stock delivery.
func (s *Service) ReevaluateMatching(ctx context.Context, f host.OrderFilter) (Summary, error) {
	k, err := host.Authorize(ctx, host.RoleOperator)
	if err != nil {
		return Summary{}, err
	}
	var sum Summary
	err = s.reevaluateAll(ctx, f, k.Actor(), map[string]bool{}, &sum)
	return sum, err
}

// reevaluateAll re-evaluates the orders f selects that are not in seen,
// page by page, and counts the outcomes in sum.
func (s *Service) reevaluateAll(ctx context.Context, f host.OrderFilter, actor string, seen map[string]bool, sum *Summary) error {
	f.After, f.Limit = "", 200
	for {
		page, next, err := s.store.ListOrders(ctx, f)
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := ctx.Err(); err != nil {
				return err
			}
			if seen[r.ID] {
				continue
			}
			seen[r.ID] = true
			updated, err := s.reevaluate(ctx, r.ID, actor)
			sum.Matched++
			switch {
			case err != nil:
				sum.Failed++
				s.log.Warn("re-evaluation failed", "order", r.ID, "actor", actor, "error", err)
			case updated.Status == sdk.StatusOnHold:
				sum.StillHeld++
			case r.Status == sdk.StatusOnHold && updated.Status == sdk.StatusOpen:
				sum.Opened++
			}
		}
		if next == "" {
			return nil
		}
		f.After = next
	}
}

// InventoryChanged re-evaluates the held orders with a line of one of the
// SKUs, when the settings ask for it, so holds whose cause a stock update
// removed clear by themselves. It is the host's own work after an upload
// the catalog service allowed: it runs as "system:inventory".
func (s *Service) InventoryChanged(ctx context.Context, skus []string) (Summary, error) {
	var sum Summary
	settings, err := s.store.Settings(ctx)
	if err != nil || !settings.ReevaluateOnInventoryChange {
		return sum, err
	}
	seen := map[string]bool{}
	for _, sku := range skus {
		if err := s.reevaluateAll(ctx, host.OrderFilter{Status: string(sdk.StatusOnHold), SKU: sku}, "system:inventory", seen, &sum); err != nil {
			return sum, err
		}
	}
	if sum.Matched > 0 {
		s.log.Info("held orders re-evaluated after an inventory change", "orders", sum.Matched, "opened", sum.Opened, "still_held", sum.StillHeld)
	}
	return sum, nil
}
