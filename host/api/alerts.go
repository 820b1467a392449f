package api

import (
	"encoding/hex"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/alerts"
)

// DestinationList lists destinations, secrets redacted.
type DestinationList struct {
	Destinations []*host.Destination `json:"destinations"`
}

// AlertList lists alert deliveries, newest first.
type AlertList struct {
	Alerts     []*host.Delivery `json:"alerts"`
	NextCursor string           `json:"next_cursor,omitempty"`
}

// RedeliverResult says how many alerts a bulk redelivery queued.
type RedeliverResult struct {
	Queued int `json:"queued"`
}

func (s *Server) createDestination(c *gin.Context) {
	var req host.DestinationRequest
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	d, generated, err := s.cfg.Destinations.Create(c.Request.Context(), &req)
	if err != nil {
		s.abort(c, err)
		return
	}
	c.Header("Location", "/api/v1/alert-destinations/"+d.Name)
	out := d.Public()
	if generated != "" {
		out.Secret = generated // shown this once; never again
	}
	respond(c, http.StatusCreated, out)
}

func (s *Server) listDestinations(c *gin.Context) {
	list, err := s.cfg.Store.Destinations(c.Request.Context())
	if err != nil {
		s.abort(c, err)
		return
	}
	out := DestinationList{Destinations: make([]*host.Destination, len(list))}
	for i, d := range list {
		out.Destinations[i] = d.Public()
	}
	respond(c, http.StatusOK, out)
}

func (s *Server) getDestination(c *gin.Context) {
	d, err := s.cfg.Store.Destination(c.Request.Context(), c.Param("name"))
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, d.Public())
}

func (s *Server) patchDestination(c *gin.Context) {
	var req host.DestinationPatch
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	d, err := s.cfg.Destinations.Update(c.Request.Context(), c.Param("name"), &req)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, d.Public())
}

func (s *Server) deleteDestination(c *gin.Context) {
	if err := s.cfg.Destinations.Delete(c.Request.Context(), c.Param("name")); err != nil {
		s.abort(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// Query parameters of the delivery filter: GET /api/v1/alerts takes any
// status, a bulk redelivery those that can be queued again.
var (
	alertDestination = param{name: "destination", desc: "Deliveries to this destination (the alert's \"to\").", example: "sales", valid: host.ValidID,
		mustBe: "a destination name: 1-64 lower-case letters, digits, '_' or '-'"}
	alertSince = timeParam("since", "Deliveries created at or after this time.")
	alertQuery = []param{enumParam("status", "Deliveries of this status.", host.DeliveryPending, host.DeliveryDelivered, host.DeliveryFailed),
		alertDestination, alertSince}
	redeliverQuery = []param{enumParam("status", "Deliveries of this status; pending ones are queued already.", host.DeliveryFailed, host.DeliveryDelivered).withDefault(host.DeliveryFailed),
		alertDestination, alertSince}
	alertCursor = param{name: "cursor", desc: "The next_cursor of the previous page; there are no more pages when a page has none.",
		example: "17f4c1e2a0b3c4d5616c72745f31", valid: validHex, mustBe: "a next_cursor this API returned"}
)

func validHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && len(s) >= 16
}

// deliveryFilter reads the delivery filter of a checked query.
func deliveryFilter(q queryValues) host.DeliveryFilter {
	return host.DeliveryFilter{Status: q.str("status"), Destination: q.str("destination"), Since: q.time("since")}
}

func (s *Server) listAlerts(c *gin.Context) {
	q := queryOf(c)
	f := deliveryFilter(q)
	f.After, f.Limit = q.str("cursor"), q.int("limit")
	list, next, err := s.cfg.Store.ListDeliveries(c.Request.Context(), f)
	if err != nil {
		s.abort(c, err)
		return
	}
	if list == nil {
		list = []*host.Delivery{}
	}
	respond(c, http.StatusOK, AlertList{Alerts: list, NextCursor: next})
}

func (s *Server) redeliverAlerts(c *gin.Context) {
	n, err := alerts.RedeliverMatching(c.Request.Context(), s.cfg.Store, deliveryFilter(queryOf(c)))
	if err != nil {
		s.abort(c, err)
		return
	}
	if n > 0 && s.cfg.Dispatcher != nil {
		s.cfg.Dispatcher.Notify()
	}
	respond(c, http.StatusAccepted, RedeliverResult{Queued: n})
}

func (s *Server) testDestination(c *gin.Context) {
	res, err := s.cfg.Destinations.Test(c.Request.Context(), c.Param("name"))
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, res)
}

func (s *Server) getAlert(c *gin.Context) {
	d, err := s.cfg.Store.Delivery(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, d)
}

func (s *Server) redeliverAlert(c *gin.Context) {
	if err := alerts.Redeliver(c.Request.Context(), s.cfg.Store, c.Param("id")); err != nil {
		s.abort(c, err)
		return
	}
	if s.cfg.Dispatcher != nil {
		s.cfg.Dispatcher.Notify()
	}
	d, err := s.cfg.Store.Delivery(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusAccepted, d)
}
