package importer_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/bolt"
	"github.com/ordergate/ordergate/host/importer"
	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/sdk"
)

// gatedStore is a bbolt store whose page commits can be held back and
// made to fail, and which records the cursor of each page commit.
type gatedStore struct {
	*bolt.DB
	mu      sync.Mutex
	commits []string // cursors, in commit order
	// failCursor's commit fails.
	failCursor string
	// The commit of holdCursor waits until the next page is being
	// prepared (its orders looked up), or gives up after a long while.
	holdCursor string
	preparing  chan struct{}
	overlapped bool
	lookups    int
}

func (s *gatedStore) OrdersByExternalID(ctx context.Context, channelID string, ids []string) (map[string]*host.Record, error) {
	s.mu.Lock()
	s.lookups++
	if s.lookups == 2 { // the second page
		close(s.preparing)
	}
	s.mu.Unlock()
	return s.DB.OrdersByExternalID(ctx, channelID, ids)
}

func (s *gatedStore) CommitPage(ctx context.Context, orders []host.NewOrder, page host.PageCommit) ([]host.CreateResult, error) {
	if page.Cursor == s.holdCursor {
		select {
		case <-s.preparing:
			s.mu.Lock()
			s.overlapped = true
			s.mu.Unlock()
		case <-time.After(20 * time.Second): // a host that does not pipeline
		}
	}
	s.mu.Lock()
	s.commits = append(s.commits, page.Cursor)
	s.mu.Unlock()
	if page.Cursor == s.failCursor {
		return nil, errors.New("the disk is full")
	}
	return s.DB.CommitPage(ctx, orders, page)
}

// TestPagesPipelined: the second page is prepared while the first
// commits; pages commit in their order; when the third page's commit
// fails, no later page commits, the cursor stays after the second, and
// the next run resumes there, storing every order once.
func TestPagesPipelined(t *testing.T) {
	db := e2e.OpenStore(t)
	store := &gatedStore{DB: db, holdCursor: "1", failCursor: "3", preparing: make(chan struct{})}
	c := &scripted{pages: 6, then: "end"}
	f := setupOn(t, db, store, c, importer.Config{})

	run := f.runOnce(t)
	if !store.overlapped {
		t.Error("the first page committed before the second was prepared: the pages were not pipelined")
	}
	if want := []string{"1", "2", "3"}; !slices.Equal(store.commits, want) {
		t.Errorf("page commits %v, want %v: in page order, none after the failed one", store.commits, want)
	}
	if run.Status != host.RunFailed || run.Imported != 4 || run.CursorAfter != "2" || len(run.Errors) == 0 {
		t.Fatalf("failed run = %+v", run)
	}
	if cur, _ := f.db.Cursor(context.Background(), "shop"); cur != "2" || f.stored(t) != 4 {
		t.Fatalf("cursor %q, %d stored; want 2 and 4", cur, f.stored(t))
	}

	store.mu.Lock()
	store.failCursor, store.commits = "", nil
	store.mu.Unlock()
	run = f.runOnce(t)
	if run.Status != host.RunSucceeded || run.CursorBefore != "2" || run.CursorAfter != "8" || run.Imported != 12 {
		t.Fatalf("second run = %+v", run)
	}
	if want := []string{"3", "4", "5", "6", "7", "8"}; !slices.Equal(store.commits, want) {
		t.Errorf("page commits %v, want %v", store.commits, want)
	}
	if f.stored(t) != 16 {
		t.Errorf("%d stored, want 16", f.stored(t))
	}
}

// twoLookAlikes sends two pages of one order each, look-alikes (the same
// address and basket).
type twoLookAlikes struct{ scripted }

func (c *twoLookAlikes) GetOrders(ctx context.Context, _ sdk.Config, cursor string, pages sdk.Pages) error {
	for i, id := range []string{"first", "second"} {
		o := order(id)
		o.ShippingAddress.Address1 = "1 Same St"
		if err := pages.Send([]sdk.Order{o}, fmt.Sprint(i+1)); err != nil {
			return err
		}
	}
	return nil
}

// TestLookAlikeOnTheNextPage: while the first page commits, the second
// page's look-alike of its order is decided seeing it, and held as its
// duplicate.
func TestLookAlikeOnTheNextPage(t *testing.T) {
	db := e2e.OpenStore(t)
	store := &gatedStore{DB: db, holdCursor: "1", preparing: make(chan struct{})}
	f := setupOn(t, db, store, &twoLookAlikes{}, importer.Config{})
	if run := f.runOnce(t); run.Status != host.RunSucceeded || run.Imported != 2 {
		t.Fatalf("run = %+v", run)
	}
	if !store.overlapped {
		t.Error("the pages were not pipelined")
	}
	list, _, err := db.ListOrders(context.Background(), host.OrderFilter{ExternalID: "second"})
	if err != nil || len(list) != 1 {
		t.Fatalf("second order: %v, %v", list, err)
	}
	if !slices.ContainsFunc(list[0].Holds, func(h sdk.Hold) bool { return h.Reason == sdk.HoldDuplicateOrder }) {
		t.Errorf("the look-alike on the next page has holds %+v, want a duplicate hold", list[0].Holds)
	}
}
