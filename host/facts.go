package host

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

// FactsQuery asks the store what the built-in hold reasons need to know
// about one order.
type FactsQuery struct {
	ChannelID string
	SKUs      []string
	// Fingerprint, when not empty and duplicate protection is on, asks for
	// the orders with the same fingerprint placed within the settings'
	// window of PlacedAt and imported before the order Before (all orders
	// when Before is empty). Canceled orders are left out.
	Fingerprint string
	PlacedAt    time.Time
	Before      string
	// CustomerEmail, when not empty (NormalizeEmail), asks how many
	// orders with the email were imported before Before.
	CustomerEmail string
}

// Facts is what the store knows about an order's SKUs, channel and look-
// alikes, read from one snapshot. A store may share the values its
// pointers and maps lead to (the group, sources, catalog items, shipping
// mappings and settings) with other calls: read them, never modify them.
type Facts struct {
	// CatalogInUse is true when the catalog has any item.
	CatalogInUse bool
	// Catalog has the catalog item of each queried SKU that has one.
	Catalog map[string]*CatalogItem
	// Group is the routing group of the channel (its own or the default),
	// nil when none applies.
	Group *RoutingGroup
	// Sources are the sources the group lists.
	Sources map[string]*Source
	// Stock is the available quantity per SKU and source, for the queried
	// SKUs at the group's sources.
	Stock map[string]map[string]int64
	// Shipping is the channel's shipping mappings, nil when it has none.
	Shipping *ShippingMappings
	// Duplicates are the most recent look-alike orders (at most
	// MaxDuplicatesListed), oldest first; DuplicateCount counts them all,
	// up to MaxDuplicatesCounted (DuplicateCountCapped when there are more).
	Duplicates           []DuplicateCandidate
	DuplicateCount       int
	DuplicateCountCapped bool
	// DuplicateHorizon is the newest order with the fingerprint imported
	// before the queried one (placed at any time), "" when none was. The
	// store checks at commit that no look-alike newer than it was committed
	// meanwhile (see LookAlikeCheck).
	DuplicateHorizon string
	// CustomerOrders counts the orders of the queried customer email
	// imported before the order, up to MaxCustomerOrdersCounted
	// (CustomerOrdersCapped when there are more).
	CustomerOrders       int
	CustomerOrdersCapped bool
	// Settings are the settings in force.
	Settings Settings
}

// MaxCustomerOrdersCounted is how far the facts count a customer's
// earlier orders: every order's facts cost the same however many orders
// its customer placed.
const MaxCustomerOrdersCounted = 100

// NormalizeEmail is an email address as the customer index keeps it:
// trimmed and in lower case.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// NormalizeName is a customer name as the customer index keeps it: in
// lower case, with runs of spaces made one.
func NormalizeName(s string) string { return normalize(s) }

// Bounds of the duplicate search: every order's facts cost the same
// however many look-alikes are stored.
const (
	// MaxDuplicatesListed is how many look-alikes the facts name.
	MaxDuplicatesListed = 10
	// MaxDuplicatesCounted is how far the facts count look-alikes.
	MaxDuplicatesCounted = 100
	// MaxDuplicatesScanned bounds the index entries one search reads.
	MaxDuplicatesScanned = 1000
	// PlacedAfterImportSlack is how much later than its import an order's
	// placed_at may be and still be found as a look-alike: the search reads
	// look-alikes newest import first and stops at those imported this long
	// before the window opens (they were placed before it opened).
	PlacedAfterImportSlack = 7 * 24 * time.Hour
)

// AddLookAlikes adds look-alikes found outside the store (earlier orders
// of the same import call) to the facts, keeping the bounds: the most
// recent MaxDuplicatesListed, oldest first, and the count.
func (f *Facts) AddLookAlikes(ds ...DuplicateCandidate) {
	f.Duplicates = append(f.Duplicates, ds...)
	if extra := len(f.Duplicates) - MaxDuplicatesListed; extra > 0 {
		f.Duplicates = f.Duplicates[extra:]
	}
	f.DuplicateCount += len(ds)
	if f.DuplicateCount > MaxDuplicatesCounted {
		f.DuplicateCount, f.DuplicateCountCapped = MaxDuplicatesCounted, true
	}
}

// LookAlikeCheck asks the store to refuse a new order (ErrLookAlikeRaced)
// when a look-alike of it was committed after its facts were read: two
// look-alikes posted at the same moment must not both pass as originals.
type LookAlikeCheck struct {
	Fingerprint string
	PlacedAt    time.Time
	Window      time.Duration
	// Horizon is Facts.DuplicateHorizon of the decision.
	Horizon string
	// Seen are look-alikes the decision counted that the store did not
	// have then: earlier orders of the same call, or of calls this host
	// was storing meanwhile. The store refuses the order
	// (ErrLookAlikeRaced) unless each of them is stored before it.
	Seen []string
	// Queued, when set, is called once the store has fixed the order's
	// place among the writes of look-alikes: an order with the same
	// fingerprint given to the store after Queued was called is checked
	// after this one is stored or refused. The store does not call it
	// when it fails before, and may call it again when it tries the
	// write again.
	Queued func()
}

// LookAlikesQueued calls the Queued function of each order's look-alike
// check, as a store does once the orders' place among its writes is
// fixed.
func LookAlikesQueued(orders []NewOrder) {
	for _, no := range orders {
		if no.LookAlikes != nil && no.LookAlikes.Queued != nil {
			no.LookAlikes.Queued()
		}
	}
}

// ErrLookAlikeRaced is the result of a new order whose look-alike was
// committed after the order's facts were read: it must be decided again.
var ErrLookAlikeRaced = Errorf(ECONFLICT, "a look-alike order was stored while this one was decided; decide it again")

// DuplicateCandidate is an earlier order that looks like the one being
// evaluated.
type DuplicateCandidate struct {
	ID         string     `json:"id"`
	ChannelID  string     `json:"channel_id"`
	ExternalID string     `json:"external_id"`
	Number     string     `json:"number"`
	PlacedAt   time.Time  `json:"placed_at"`
	Status     sdk.Status `json:"status"`
}

// Fingerprint identifies what makes two orders duplicates: the same
// shipping address (compared without case and extra spaces) and the same
// items in the same quantities, in any line order. Order numbers, channels,
// customers and prices do not count.
func Fingerprint(o *sdk.Order) string {
	a := &o.ShippingAddress
	h := sha256.New()
	for _, part := range []string{a.Address1, a.Address2, a.City, a.Region, a.PostalCode, a.Country} {
		h.Write([]byte(normalize(part)))
		h.Write([]byte{0})
	}
	qty := map[string]int64{}
	for _, li := range o.LineItems {
		key := "sku:" + li.SKU
		if li.SKU == "" {
			key = "title:" + normalize(li.Title)
		}
		qty[key] += li.Quantity
	}
	keys := make([]string, 0, len(qty))
	for k := range qty {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write(strconv.AppendInt(nil, qty[k], 10))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func normalize(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// OrderContext is input.context: the facts the host computed for the
// built-in hold reasons. policies/README.md documents it for rule authors.
type OrderContext struct {
	Catalog      CatalogContext    `json:"catalog"`
	LineItems    []LineContext     `json:"line_items"`
	RoutingGroup *GroupContext     `json:"routing_group"`
	Shipping     ShippingContext   `json:"shipping"`
	Duplicates   DuplicatesContext `json:"duplicates"`
	Customer     CustomerContext   `json:"customer"`
}

// CustomerContext is what the host knows of the order's customer: the
// email as the index keeps it ("" when the order has none) and how many
// orders with that email were imported before this one (any channel, any
// status), counted up to MaxCustomerOrdersCounted (OrdersCapped when
// there are more). Orders 0 with an email is a first-time customer.
type CustomerContext struct {
	Email        string `json:"email"`
	Orders       int    `json:"orders"`
	OrdersCapped bool   `json:"orders_capped"`
}

// CatalogContext says whether the merchant keeps a catalog in ordergate.
type CatalogContext struct {
	InUse bool `json:"in_use"`
}

// LineContext is what the host knows about one line item, in line order.
type LineContext struct {
	Index    int    `json:"index"`
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
	// Catalog is the line's catalog item, nil when the SKU has none.
	Catalog *CatalogEntry `json:"catalog"`
	// Managed is true when the catalog has the SKU and it is managed.
	Managed bool `json:"managed"`
	// Available is the stock at the sources enabled in the routing group.
	Available int64 `json:"available"`
	// AvailableDisabled is the stock at the group's disabled sources.
	AvailableDisabled int64 `json:"available_disabled"`
	// Sources are the routing group's sources in routing order.
	Sources []SourceContext `json:"sources"`
}

// CatalogEntry is a catalog item as rules see it.
type CatalogEntry struct {
	SKU     string `json:"sku"`
	Title   string `json:"title"`
	Managed bool   `json:"managed"`
}

// SourceContext is one source of the routing group for one line.
type SourceContext struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	// DisabledBy is "group" when the routing group switches the source off,
	// "source" when the source itself is disabled, "" when enabled.
	DisabledBy string `json:"disabled_by"`
	Available  int64  `json:"available"`
}

// GroupContext names the routing group that applies.
type GroupContext struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Default bool   `json:"default"`
}

// ShippingContext is the order's shipping method and its mapping.
type ShippingContext struct {
	Method string `json:"method"`
	// ChannelHasMappings is true when the channel maps any shipping method.
	ChannelHasMappings bool   `json:"channel_has_mappings"`
	Mapped             bool   `json:"mapped"`
	Policy             string `json:"policy"`
}

// DuplicatesContext is the duplicate search and what it found: at most
// MaxDuplicatesListed orders, the most recent look-alikes oldest first,
// and Count, how many there are, counted up to MaxDuplicatesCounted
// (CountCapped when there are more).
type DuplicatesContext struct {
	Enabled     bool                 `json:"enabled"`
	Window      string               `json:"window"`
	Orders      []DuplicateCandidate `json:"orders"`
	Count       int                  `json:"count"`
	CountCapped bool                 `json:"count_capped"`
}

// BuildContext computes input.context for order o from the facts.
func BuildContext(o *sdk.Order, f *Facts) *OrderContext {
	c := &OrderContext{
		Catalog:   CatalogContext{InUse: f.CatalogInUse},
		LineItems: make([]LineContext, len(o.LineItems)),
		Shipping:  ShippingContext{Method: o.ShippingMethod},
		Duplicates: DuplicatesContext{Enabled: f.Settings.DuplicateProtection.Enabled, Window: f.Settings.DuplicateProtection.Window, Orders: f.Duplicates,
			Count: f.DuplicateCount, CountCapped: f.DuplicateCountCapped},
		Customer: CustomerContext{Email: NormalizeEmail(o.Customer.Email), Orders: f.CustomerOrders, OrdersCapped: f.CustomerOrdersCapped},
	}
	if c.Duplicates.Orders == nil {
		c.Duplicates.Orders = []DuplicateCandidate{}
	}
	if g := f.Group; g != nil {
		c.RoutingGroup = &GroupContext{ID: g.ID, Name: g.Name, Default: g.Default}
	}
	for i, li := range o.LineItems {
		lc := LineContext{Index: i, SKU: li.SKU, Quantity: li.Quantity, Sources: []SourceContext{}}
		if item := f.Catalog[li.SKU]; item != nil && li.SKU != "" {
			lc.Catalog = &CatalogEntry{SKU: item.SKU, Title: item.Title, Managed: item.Managed}
			lc.Managed = item.Managed
		}
		if f.Group != nil {
			for _, gs := range f.Group.Sources {
				src := f.Sources[gs.SourceID]
				if src == nil {
					continue
				}
				sc := SourceContext{ID: src.ID, Name: src.Name, Enabled: gs.Enabled && src.Enabled, Available: f.Stock[li.SKU][src.ID]}
				switch {
				case !src.Enabled:
					sc.DisabledBy = "source"
				case !gs.Enabled:
					sc.DisabledBy = "group"
				}
				if sc.Enabled {
					lc.Available += sc.Available
				} else {
					lc.AvailableDisabled += sc.Available
				}
				lc.Sources = append(lc.Sources, sc)
			}
		}
		c.LineItems[i] = lc
	}
	if m := f.Shipping; m != nil && len(m.Methods) > 0 {
		c.Shipping.ChannelHasMappings = true
		if p, ok := m.Methods[o.ShippingMethod]; ok && o.ShippingMethod != "" {
			c.Shipping.Mapped, c.Shipping.Policy = true, p
		}
	}
	return c
}
