package orders

import (
	"context"
	"fmt"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// Age buckets of a QueueSummary.
const (
	AgeUnderHour = "<1h"
	AgeUnderDay  = "1h-24h"
	AgeUnderWeek = "1d-7d"
	AgeOverWeek  = ">7d"
)

// MaxSummarized bounds the orders one summary reads.
const MaxSummarized = 100000

// QueueSummary is what an operations lead opens first: the orders a
// filter selects (the hold queue by default) counted by hold reason (an
// order held for two reasons counts under both), by channel and by age,
// and the order held longest for each reason. An order's age is how long
// it has been held (since the earliest held_at of its holds), or, when it
// is not on hold, since it was imported.
type QueueSummary struct {
	Total     int                   `json:"total"`
	ByReason  map[string]int        `json:"by_reason"`
	ByChannel map[string]int        `json:"by_channel"`
	ByAge     map[string]int        `json:"by_age"`
	Oldest    map[string]OldestHeld `json:"oldest"`
	// At is the time the ages count to.
	At time.Time `json:"at"`
}

// OldestHeld is the order held longest for a reason.
type OldestHeld struct {
	ID     string    `json:"id"`
	Number string    `json:"number"`
	HeldAt time.Time `json:"held_at"`
}

// ageBucket names the bucket of an age.
func ageBucket(age time.Duration) string {
	switch {
	case age < time.Hour:
		return AgeUnderHour
	case age < 24*time.Hour:
		return AgeUnderDay
	case age < 7*24*time.Hour:
		return AgeUnderWeek
	}
	return AgeOverWeek
}

// Summarize summarizes the orders f selects (its cursor and limit are
// ignored); more than MaxSummarized is refused, naming the filters.
func (s *Service) Summarize(ctx context.Context, f host.OrderFilter) (QueueSummary, error) {
	if _, err := host.Authorize(ctx, host.RoleOperator); err != nil {
		return QueueSummary{}, err
	}
	now := s.now()
	sum := QueueSummary{ByReason: map[string]int{}, ByChannel: map[string]int{}, Oldest: map[string]OldestHeld{}, At: now,
		ByAge: map[string]int{AgeUnderHour: 0, AgeUnderDay: 0, AgeUnderWeek: 0, AgeOverWeek: 0}}
	f.After, f.Limit, f.Basic = "", 500, true // counted from the basic view
	for {
		page, next, err := s.store.ListOrders(ctx, f)
		if err != nil {
			return QueueSummary{}, err
		}
		for _, r := range page {
			sum.add(r, now)
		}
		if sum.Total > MaxSummarized {
			return QueueSummary{}, host.InvalidFields(fmt.Sprintf("the filters select more than %d orders", MaxSummarized),
				[]sdk.FieldError{{Field: "status", Detail: "narrow the filters, e.g. with channel_id, hold_reason or imported_after"}})
		}
		if next == "" {
			return sum, nil
		}
		f.After = next
	}
}

func (sum *QueueSummary) add(r *host.Record, now time.Time) {
	sum.Total++
	sum.ByChannel[r.ChannelID]++
	since := r.HeldAt()
	if since == nil {
		since = r.ImportedAt
	}
	if since != nil {
		sum.ByAge[ageBucket(now.Sub(*since))]++
	}
	counted := map[string]bool{}
	for _, h := range r.Holds {
		if !counted[h.Reason] {
			counted[h.Reason] = true
			sum.ByReason[h.Reason]++
		}
		at := h.HeldAt
		if at == nil {
			at = r.ImportedAt
		}
		if at == nil {
			continue
		}
		if o, ok := sum.Oldest[h.Reason]; !ok || at.Before(o.HeldAt) {
			sum.Oldest[h.Reason] = OldestHeld{ID: r.ID, Number: r.Number, HeldAt: *at}
		}
	}
}
