package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
)

// EventList is one page of the change feed.
type EventList struct {
	Events []*host.Event `json:"events"`
	// NextCursor is where to read on from; absent at the end of the feed
	// (then read on from the cursor of the last event you have).
	NextCursor string `json:"next_cursor,omitempty"`
}

// eventQuery declares the feed's query parameters.
func eventQuery() []param {
	return []param{
		textParam("after", "Read the events after this cursor: an event's cursor or a page's next_cursor (opaque; 0 is the beginning). Left out, the feed is read from its beginning.", "0"),
		{name: "types", desc: "Only events of these types, comma-separated: order.imported, order.held, order.released, order.canceled, order.edited, order.reevaluated, order.hold_due, order.updated, ops.<alert kind>, or the patterns order.*, ops.*.",
			example: "order.released,order.canceled", valid: validEventTypes, mustBe: "event types separated by commas, such as order.released,order.canceled or order.*"},
		limitParam(100, 1000),
	}
}

func validEventTypes(v string) bool {
	for _, t := range strings.Split(v, ",") {
		if !host.ValidEventType(t) {
			return false
		}
	}
	return true
}

// listEvents reads the change feed. A reseller's key reads its channel's
// order events only.
func (s *Server) listEvents(c *gin.Context) {
	key := keyOf(c)
	q := queryOf(c)
	f := host.EventFilter{After: q.str("after"), Limit: q.int("limit")}
	if t := q.str("types"); t != "" {
		f.Types = strings.Split(t, ",")
	}
	if key.Role == host.RoleReseller {
		f.ChannelID = key.ChannelID
	}
	events, next, err := s.cfg.Store.Events(c.Request.Context(), f)
	if err != nil {
		s.abort(c, err)
		return
	}
	if events == nil {
		events = []*host.Event{}
	}
	respond(c, http.StatusOK, EventList{Events: events, NextCursor: next})
}
