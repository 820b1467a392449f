package host

import (
	"time"

	"github.com/ordergate/ordergate/sdk"
)

// Source is a place stock ships from: a warehouse, a supplier, a store.
// A disabled source counts for nothing in any routing group.
type Source struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks a source.
func (s *Source) Validate() []sdk.FieldError { return checkIDAndName(s.ID, s.Name) }

// SourceRequest asks for a new source; Enabled defaults to true.
type SourceRequest struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Enabled *bool  `json:"enabled,omitempty"`
}

// Source returns the source the request asks for, created at now, or what
// is wrong with the request.
func (r *SourceRequest) Source(now time.Time) (*Source, []sdk.FieldError) {
	s := &Source{ID: r.ID, Name: r.Name, Enabled: r.Enabled == nil || *r.Enabled, CreatedAt: now, UpdatedAt: now}
	if bad := s.Validate(); len(bad) > 0 {
		return nil, bad
	}
	return s, nil
}

// SourcePatch changes a source; fields left out stay as they are.
type SourcePatch struct {
	Name    *string `json:"name,omitempty"`
	Enabled *bool   `json:"enabled,omitempty"`
}

// Apply changes s as the patch says, or says what is wrong (and leaves s
// as it was).
func (p *SourcePatch) Apply(s *Source) []sdk.FieldError {
	next := *s
	if p.Name != nil {
		next.Name = *p.Name
	}
	if p.Enabled != nil {
		next.Enabled = *p.Enabled
	}
	if bad := next.Validate(); len(bad) > 0 {
		return bad
	}
	*s = next
	return nil
}
