package host

import (
	"fmt"
	"slices"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

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

// RoutingGroupRequest asks for a new routing group, or replaces one. Each
// source is enabled unless it says otherwise.
type RoutingGroupRequest struct {
	ID       string               `json:"id,omitempty"`
	Name     string               `json:"name"`
	Sources  []GroupSourceRequest `json:"sources"`
	Channels []string             `json:"channels,omitempty"`
	Default  bool                 `json:"default,omitempty"`
}

// GroupSourceRequest is one source of a routing group; Enabled defaults
// to true.
type GroupSourceRequest struct {
	SourceID string `json:"source_id"`
	Enabled  *bool  `json:"enabled,omitempty"`
}

func groupSources(reqs []GroupSourceRequest) []GroupSource {
	out := make([]GroupSource, len(reqs))
	for i, gs := range reqs {
		out[i] = GroupSource{SourceID: gs.SourceID, Enabled: gs.Enabled == nil || *gs.Enabled}
	}
	return out
}

// Group returns the routing group the request asks for with the id (the
// path's; the body's must agree), changed at now, or what is wrong with
// the request. That its sources and channels exist is checked by the
// store.
func (r *RoutingGroupRequest) Group(id string, now time.Time) (*RoutingGroup, []sdk.FieldError) {
	if r.ID != "" && id != "" && r.ID != id {
		return nil, []sdk.FieldError{{Field: "id", Detail: fmt.Sprintf("is %q but the path names %q", r.ID, id)}}
	}
	if id == "" {
		id = r.ID
	}
	g := &RoutingGroup{ID: id, Name: r.Name, Channels: r.Channels, Default: r.Default, Sources: groupSources(r.Sources), UpdatedAt: now}
	if g.Channels == nil {
		g.Channels = []string{}
	}
	if bad := g.Validate(); len(bad) > 0 {
		return nil, bad
	}
	return g, nil
}

// RoutingGroupPatch changes a routing group; fields left out stay as they
// are, a list given replaces the group's.
type RoutingGroupPatch struct {
	Name     *string              `json:"name,omitempty"`
	Sources  []GroupSourceRequest `json:"sources,omitempty"`
	Channels []string             `json:"channels,omitempty"`
	Default  *bool                `json:"default,omitempty"`
}

// Apply changes g as the patch says, or says what is wrong (and leaves g
// as it was).
func (p *RoutingGroupPatch) Apply(g *RoutingGroup) []sdk.FieldError {
	next := *g
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.Sources != nil {
		next.Sources = groupSources(p.Sources)
	}
	if p.Channels != nil {
		next.Channels = slices.Clone(p.Channels)
	}
	if p.Default != nil {
		next.Default = *p.Default
	}
	if bad := next.Validate(); len(bad) > 0 {
		return bad
	}
	*g = next
	return nil
}
