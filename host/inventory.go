package host

import (
	"context"
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/ordergate/ordergate/sdk"
)

// CatalogItem is a product the merchant sells. The built-in
// not_managed_item rule holds orders with a SKU that is missing from the
// catalog or whose item is not managed (sold but not fulfilled through
// ordergate's routing). An empty catalog means the merchant keeps no
// catalog in ordergate, and nothing is held for it.
type CatalogItem struct {
	SKU       string    `json:"sku"`
	Title     string    `json:"title,omitempty"`
	Managed   bool      `json:"managed"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Source is a place stock ships from: a warehouse, a supplier, a store.
// A disabled source counts for nothing in any routing group.
type Source struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// StockLevel is the quantity of one SKU available at one source.
type StockLevel struct {
	SourceID  string    `json:"source_id"`
	SKU       string    `json:"sku"`
	Available int64     `json:"available"`
	UpdatedAt time.Time `json:"updated_at"`
}

// RoutingGroup is the ordered list of sources that may fill the orders of
// its channels. A source can be switched off in one group (Enabled false)
// without being disabled everywhere. The default group serves channels
// that no group names.
type RoutingGroup struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Sources   []GroupSource `json:"sources"`
	Channels  []string      `json:"channels"`
	Default   bool          `json:"default"`
	UpdatedAt time.Time     `json:"updated_at"`
}

// GroupSource is one source of a routing group, in routing order.
type GroupSource struct {
	SourceID string `json:"source_id"`
	Enabled  bool   `json:"enabled"`
}

// ShippingMappings maps a channel's shipping methods (as the channel names
// them on orders) to the merchant's shipping policies. The built-in
// unmapped_shipping_policy rule holds orders of a channel that has
// mappings when their shipping method has none.
type ShippingMappings struct {
	ChannelID string            `json:"channel_id"`
	Methods   map[string]string `json:"methods"`
	UpdatedAt time.Time         `json:"updated_at"`
}

// Settings are the host's operational switches, changed through the API.
type Settings struct {
	DuplicateProtection DuplicateProtection `json:"duplicate_protection"`
	// ReevaluateOnInventoryChange re-evaluates held orders whose SKUs an
	// inventory update touched, so holds whose cause is gone clear by
	// themselves.
	ReevaluateOnInventoryChange bool `json:"reevaluate_on_inventory_change"`
	// OpsAlerts are the host's own alerts about itself.
	OpsAlerts OpsAlerts `json:"ops_alerts"`
	UpdatedAt time.Time `json:"updated_at"`
}

// OpsAlerts configures the operational alerts the host raises: a channel
// whose imports fail ChannelFailures times in a row or that has had no
// successful import for ChannelSilence, a refused policy reload, and a
// dead-lettered alert. They go to the destination To (the log when no
// destination is configured at all).
type OpsAlerts struct {
	To              string `json:"to"`
	ChannelFailures int    `json:"channel_failures"`
	ChannelSilence  string `json:"channel_silence"`
}

// SilenceDuration returns ChannelSilence (24h when unset).
func (o OpsAlerts) SilenceDuration() time.Duration {
	d, err := time.ParseDuration(o.ChannelSilence)
	if err != nil || d <= 0 {
		return 24 * time.Hour
	}
	return d
}

// DuplicateProtection configures the search for orders that look like one
// already imported.
type DuplicateProtection struct {
	Enabled bool `json:"enabled"`
	// Window is how far apart in placed_at two orders may be and still be
	// duplicates, as a Go duration ("24h").
	Window string `json:"window"`
}

// DefaultSettings are the settings of a new installation.
func DefaultSettings() Settings {
	return Settings{
		DuplicateProtection:         DuplicateProtection{Enabled: true, Window: "24h"},
		ReevaluateOnInventoryChange: true,
		OpsAlerts:                   OpsAlerts{To: "ops", ChannelFailures: 3, ChannelSilence: "24h"},
	}
}

// WindowDuration returns the duplicate window.
func (p DuplicateProtection) WindowDuration() time.Duration {
	d, err := time.ParseDuration(p.Window)
	if err != nil {
		return 24 * time.Hour
	}
	return d
}

// Limits of the catalog data.
const (
	MaxNameLength = 200
	// MaxAvailable bounds a stock level; more is a data error.
	MaxAvailable = 1_000_000_000
	// MaxInventoryRows bounds one inventory upload.
	MaxInventoryRows = 500_000
	// MaxDuplicateWindow bounds the duplicate search window.
	MaxDuplicateWindow = 30 * 24 * time.Hour
	// MaxGroupSources and MaxGroupChannels bound a routing group, and
	// MaxShippingMethods a channel's shipping mappings: an order's facts
	// read the whole group and mappings, so their size bounds its cost.
	MaxGroupSources    = 100
	MaxGroupChannels   = 1000
	MaxShippingMethods = 1000
)

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidID reports whether id is a well-formed id of a source or routing
// group (the same form as a channel id).
func ValidID(id string) bool { return idPattern.MatchString(id) }

// CheckSKU returns what is wrong with a SKU, or "".
func CheckSKU(sku string) string {
	switch {
	case sku == "":
		return "is required"
	case len(sku) > sdk.MaxIDLength:
		return fmt.Sprintf("is longer than %d bytes", sdk.MaxIDLength)
	case !utf8.ValidString(sku):
		return "is not valid UTF-8"
	}
	for _, r := range sku {
		if r < 0x20 || r == 0x7f {
			return "contains a control character"
		}
	}
	return ""
}

// CheckAvailable returns what is wrong with a stock quantity, or "".
func CheckAvailable(n int64) string {
	switch {
	case n < 0:
		return "must not be negative"
	case n > MaxAvailable:
		return fmt.Sprintf("must be at most %d", MaxAvailable)
	}
	return ""
}

// checkName returns what is wrong with a display name, or "".
func checkName(name string, required bool) string {
	switch {
	case name == "" && required:
		return "is required"
	case len(name) > MaxNameLength:
		return fmt.Sprintf("is longer than %d bytes", MaxNameLength)
	case !utf8.ValidString(name):
		return "is not valid UTF-8"
	}
	return ""
}

// Validate checks a catalog item; field names are prefixed with prefix.
func (c *CatalogItem) Validate(prefix string) []sdk.FieldError {
	var errs []sdk.FieldError
	if d := CheckSKU(c.SKU); d != "" {
		errs = append(errs, sdk.FieldError{Field: prefix + "sku", Detail: d})
	}
	if d := checkName(c.Title, false); d != "" {
		errs = append(errs, sdk.FieldError{Field: prefix + "title", Detail: d})
	}
	return errs
}

// checkIDAndName checks the id and name of a source or routing group.
func checkIDAndName(id, name string) []sdk.FieldError {
	var errs []sdk.FieldError
	if !ValidID(id) {
		errs = append(errs, sdk.FieldError{Field: "id", Detail: "must be 1-64 lower-case letters, digits, '_' or '-', starting with a letter or digit"})
	}
	if d := checkName(name, true); d != "" {
		errs = append(errs, sdk.FieldError{Field: "name", Detail: d})
	}
	return errs
}

// Validate checks a source.
func (s *Source) Validate() []sdk.FieldError { return checkIDAndName(s.ID, s.Name) }

// Validate checks a routing group's own fields; that its sources and
// channels exist is checked by the store.
func (g *RoutingGroup) Validate() []sdk.FieldError {
	errs := checkIDAndName(g.ID, g.Name)
	if len(g.Sources) > MaxGroupSources {
		errs = append(errs, sdk.FieldError{Field: "sources", Detail: fmt.Sprintf("has %d sources; a routing group has at most %d", len(g.Sources), MaxGroupSources)})
	}
	if len(g.Channels) > MaxGroupChannels {
		errs = append(errs, sdk.FieldError{Field: "channels", Detail: fmt.Sprintf("has %d channels; a routing group has at most %d", len(g.Channels), MaxGroupChannels)})
	}
	seen := map[string]bool{}
	for i, s := range g.Sources {
		if seen[s.SourceID] {
			errs = append(errs, sdk.FieldError{Field: fmt.Sprintf("sources[%d].source_id", i), Detail: fmt.Sprintf("source %q is listed twice", s.SourceID)})
		}
		seen[s.SourceID] = true
	}
	seen = map[string]bool{}
	for i, c := range g.Channels {
		if seen[c] {
			errs = append(errs, sdk.FieldError{Field: fmt.Sprintf("channels[%d]", i), Detail: fmt.Sprintf("channel %q is listed twice", c)})
		}
		seen[c] = true
	}
	return errs
}

// Validate checks shipping mappings.
func (m *ShippingMappings) Validate() []sdk.FieldError {
	var errs []sdk.FieldError
	if len(m.Methods) > MaxShippingMethods {
		return []sdk.FieldError{{Field: "methods", Detail: fmt.Sprintf("has %d methods; a channel maps at most %d", len(m.Methods), MaxShippingMethods)}}
	}
	for method, pol := range m.Methods {
		field := fmt.Sprintf("methods[%q]", method)
		if d := checkName(method, true); d != "" {
			errs = append(errs, sdk.FieldError{Field: field, Detail: "the shipping method " + d})
		}
		if d := checkName(pol, true); d != "" {
			errs = append(errs, sdk.FieldError{Field: field, Detail: "the shipping policy " + d})
		}
	}
	return errs
}

// Validate checks settings.
func (s *Settings) Validate() []sdk.FieldError {
	d, err := time.ParseDuration(s.DuplicateProtection.Window)
	switch {
	case err != nil:
		return []sdk.FieldError{{Field: "duplicate_protection.window", Detail: "must be a duration such as \"24h\" or \"90m\""}}
	case d <= 0 || d > MaxDuplicateWindow:
		return []sdk.FieldError{{Field: "duplicate_protection.window", Detail: "must be more than 0 and at most 720h (30 days)"}}
	}
	var errs []sdk.FieldError
	if o := s.OpsAlerts; o.To != "" && !ValidID(o.To) {
		errs = append(errs, sdk.FieldError{Field: "ops_alerts.to", Detail: "must name an alert destination"})
	}
	if s.OpsAlerts.ChannelFailures < 1 || s.OpsAlerts.ChannelFailures > 1000 {
		errs = append(errs, sdk.FieldError{Field: "ops_alerts.channel_failures", Detail: "must be from 1 to 1000"})
	}
	if d, err := time.ParseDuration(s.OpsAlerts.ChannelSilence); err != nil || d < time.Second {
		errs = append(errs, sdk.FieldError{Field: "ops_alerts.channel_silence", Detail: "must be a duration of at least 1s, such as \"24h\""})
	}
	return errs
}

// InventoryMode says how an inventory upload applies.
type InventoryMode string

const (
	// InventoryMerge sets the listed levels and leaves others unchanged.
	InventoryMerge InventoryMode = "merge"
	// InventoryReplace sets the listed levels and sets every other level of
	// the sources named in the upload to zero (a full stock count).
	InventoryReplace InventoryMode = "replace"
)

// InventoryResult reports what an inventory upload changed.
type InventoryResult struct {
	Rows    int `json:"rows"`
	Changed int `json:"changed"`
	// SKUs whose availability changed, for re-evaluation.
	SKUs []string `json:"-"`
}

// CatalogStore keeps the catalog, sources, stock levels, routing groups,
// shipping mappings and settings, and answers the workflow's questions
// about them from one consistent snapshot.
type CatalogStore interface {
	PutCatalogItems(ctx context.Context, items []*CatalogItem) error
	CatalogItem(ctx context.Context, sku string) (*CatalogItem, error)
	CatalogItems(ctx context.Context, after string, limit int) ([]*CatalogItem, string, error)
	DeleteCatalogItem(ctx context.Context, sku string) error

	// PutSource creates or replaces a source.
	PutSource(ctx context.Context, s *Source) (*Source, error)
	Source(ctx context.Context, id string) (*Source, error)
	Sources(ctx context.Context) ([]*Source, error)
	// DeleteSource removes a source and its stock; a source a routing group
	// lists cannot be deleted (ECONFLICT).
	DeleteSource(ctx context.Context, id string) error

	// SetInventory applies stock levels atomically: all or nothing.
	SetInventory(ctx context.Context, levels []StockLevel, mode InventoryMode) (InventoryResult, error)
	// Inventory lists stock levels, of one source or of one SKU.
	Inventory(ctx context.Context, sourceID, sku string, after string, limit int) ([]StockLevel, string, error)

	// PutRoutingGroup creates or replaces a routing group; its sources and
	// channels must exist, a channel belongs to at most one group, and only
	// one group is the default.
	PutRoutingGroup(ctx context.Context, g *RoutingGroup) (*RoutingGroup, error)
	RoutingGroup(ctx context.Context, id string) (*RoutingGroup, error)
	RoutingGroups(ctx context.Context) ([]*RoutingGroup, error)
	DeleteRoutingGroup(ctx context.Context, id string) error

	PutShippingMappings(ctx context.Context, m *ShippingMappings) (*ShippingMappings, error)
	ShippingMappings(ctx context.Context, channelID string) (*ShippingMappings, error)

	Settings(ctx context.Context) (Settings, error)
	PutSettings(ctx context.Context, s Settings) (Settings, error)

	// Facts reads what the built-in hold reasons need to know about an
	// order, from one snapshot.
	Facts(ctx context.Context, q FactsQuery) (*Facts, error)
}
