package api_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/internal/pgtest"
	"github.com/ordergate/ordergate/host/postgres"
)

// TestLookAlikesPostedAtOnce: two look-alike orders posted at the same
// moment in separate requests do not both pass as originals: one of each
// pair is held as a duplicate of the other.
func TestLookAlikesPostedAtOnce(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	h.createChannel("acme", "b2b")
	postLookAlikePairs(t, []*testHost{h, h}, h.admin)
}

// postLookAlikePairs posts 20 pairs of look-alike orders, the two of a
// pair at the same moment, the first to hosts[0] and the second to
// hosts[1]: one of each pair must stay open and the other be held as its
// duplicate.
func postLookAlikePairs(t *testing.T, hosts []*testHost, admin string) {
	t.Helper()
	const pairs = 20
	for p := range pairs {
		addr := map[string]any{"address1": fmt.Sprintf("%d Race St", p), "city": "Reno", "country": "US"}
		var start sync.WaitGroup
		start.Add(1)
		var done sync.WaitGroup
		got := make([]map[string]any, 2)
		for i := range 2 {
			o := small(t, map[string]any{"channel_id": "acme", "external_id": fmt.Sprintf("race-%d-%d", p, i), "number": fmt.Sprintf("R%d-%d", p, i), "shipping_address": addr})
			done.Go(func() {
				start.Wait()
				got[i] = hosts[i].expect(hosts[i].do("POST", "/api/v1/orders", admin, o), http.StatusCreated).json(t)
			})
		}
		start.Done()
		done.Wait()
		statuses := []string{got[0]["status"].(string), got[1]["status"].(string)}
		slices.Sort(statuses)
		if !slices.Equal(statuses, []string{"on_hold", "open"}) {
			t.Errorf("pair %d posted at once: statuses %v, want one open and one held as a duplicate", p, statuses)
			continue
		}
		held, open := got[0], got[1]
		if held["status"] != "on_hold" {
			held, open = open, held
		}
		hosts[0].wantHold(held, "duplicate_order", open["id"].(string))
	}
}

// TestManyLookAlikesPostedAtOnce: a burst of look-alikes (one address,
// three baskets, ten orders each, all posted at the same moment) is
// stored without a refusal, and each order counts exactly the look-alikes
// imported before it: the first of each basket stays open, the i-th is
// held as a duplicate of the i before it.
func TestManyLookAlikesPostedAtOnce(t *testing.T) {
	t.Run("bolt", func(t *testing.T) {
		h := newTestHost(t, shippedPolicies)
		h.createChannel("acme", "b2b")
		postLookAlikeBurst(t, h)
	})
	t.Run("postgres", func(t *testing.T) {
		h := newHostsOnPostgres(t, 1)[0]
		h.createChannel("acme", "b2b")
		postLookAlikeBurst(t, h)
	})
}

func postLookAlikeBurst(t *testing.T, h *testHost) {
	const baskets, each = 3, 10
	addr := map[string]any{"address1": "1 Burst Blvd", "city": "Reno", "country": "US"}
	got := make([]map[string]any, baskets*each)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range got {
		o := small(t, map[string]any{"channel_id": "acme", "external_id": fmt.Sprintf("burst-%d", i), "number": fmt.Sprintf("B%02d", i), "shipping_address": addr,
			"line_items": []any{map[string]any{"sku": "V789", "title": "Valve V789", "quantity": 1 + i%baskets, "unit_price": "19.99"}}})
		done.Go(func() {
			start.Wait()
			got[i] = h.expect(h.do("POST", "/api/v1/orders", h.admin, o), http.StatusCreated).json(t)
		})
	}
	start.Done()
	done.Wait()
	for b := range baskets {
		var basket []map[string]any
		for i, o := range got {
			if i%baskets == b && o != nil {
				basket = append(basket, o)
			}
		}
		slices.SortFunc(basket, func(x, y map[string]any) int { return strings.Compare(x["id"].(string), y["id"].(string)) })
		for i, o := range basket {
			if i == 0 {
				if o["status"] != "open" {
					t.Errorf("basket %d: the first look-alike %s is %v with holds %v, want open", b, o["number"], o["status"], holdsOf(t, o))
				}
				continue
			}
			if n := lookAlikesNamed(t, holdsOf(t, o)["duplicate_order"]); n != i {
				t.Errorf("basket %d: look-alike %d (%s) counts %d look-alikes (hold %q), want %d", b, i, o["number"], n, holdsOf(t, o)["duplicate_order"], i)
			}
		}
	}
}

// lookAlikesNamed counts the look-alikes a duplicate_order hold message
// tells of: those it names and those it says are more.
func lookAlikesNamed(t *testing.T, msg string) int {
	t.Helper()
	if msg == "" {
		return 0
	}
	n := strings.Count(msg, " from acme")
	if m := regexp.MustCompile(`and (\d+) more`).FindStringSubmatch(msg); m != nil {
		extra, err := strconv.Atoi(m[1])
		if err != nil {
			t.Fatalf("hold message %q: %v", msg, err)
		}
		n += extra
	}
	return n
}

// TestDuplicateHoldNamesTheMostRecent: with more look-alikes than the
// facts list, the hold names the 10 most recent and says how many more
// there are.
func TestDuplicateHoldNamesTheMostRecent(t *testing.T) {
	h := newTestHost(t, shippedPolicies)
	h.createChannel("acme", "b2b")
	addr := map[string]any{"address1": "1 Warehouse Way", "city": "Reno", "country": "US"}
	var batch []any
	for i := range 15 {
		batch = append(batch, small(t, map[string]any{"channel_id": "acme", "external_id": fmt.Sprintf("w-%02d", i), "number": fmt.Sprintf("W%02d", i), "shipping_address": addr}))
	}
	h.expect(h.do("POST", "/api/v1/orders:batch", h.admin, map[string]any{"orders": batch}), http.StatusOK)
	next := small(t, map[string]any{"channel_id": "acme", "external_id": "w-15", "number": "W15", "shipping_address": addr})
	got := h.expect(h.do("POST", "/api/v1/orders", h.admin, next), http.StatusCreated).json(t)
	h.wantHold(got, "duplicate_order", "W05 from acme", "W14 from acme", "and 5 more")
	if msg := holdsOf(t, got)["duplicate_order"]; strings.Contains(msg, "W04 ") {
		t.Errorf("the hold names an older look-alike than the 10 most recent: %q", msg)
	}
}

// TestLookAlikesOnTwoHosts is TestLookAlikesPostedAtOnce with the two
// orders of each pair posted to two hosts sharing one PostgreSQL store:
// one stays open, the other is held as its duplicate.
func TestLookAlikesOnTwoHosts(t *testing.T) {
	hosts := newHostsOnPostgres(t, 2)
	hosts[0].createChannel("acme", "b2b")
	postLookAlikePairs(t, hosts, hosts[0].admin)
}

// newHostsOnPostgres starts n hosts sharing one new PostgreSQL database.
func newHostsOnPostgres(t *testing.T, n int) []*testHost {
	t.Helper()
	dsn := pgtest.Start(t).NewDatabase(t)
	var hosts []*testHost
	for range n {
		db, err := postgres.Open(context.Background(), dsn, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		hosts = append(hosts, newTestHostOn(t, db, nil, shippedPolicies, time.Second))
	}
	return hosts
}
