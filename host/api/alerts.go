package api

import (
	"encoding/hex"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/alerts"
	"github.com/ordergate/ordergate/sdk"
)

// DestinationRequest creates an alert destination; Secret is write-only.
type DestinationRequest struct {
	Name           string  `json:"name"`
	Kind           string  `json:"kind"`
	URL            string  `json:"url,omitempty"`
	Secret         string  `json:"secret,omitempty"`
	MaxConcurrency int     `json:"max_concurrency,omitempty"`
	RatePerSecond  float64 `json:"rate_per_second,omitempty"`
	// Retry bounds how long deliveries are retried (default 20 attempts
	// within 72h).
	Retry *host.RetryPolicy `json:"retry,omitempty"`
	// Email destinations.
	SMTPHost string   `json:"smtp_host,omitempty"`
	SMTPPort int      `json:"smtp_port,omitempty"`
	Username string   `json:"username,omitempty"`
	Password string   `json:"password,omitempty"`
	From     string   `json:"from,omitempty"`
	To       []string `json:"to,omitempty"`
	TLS      string   `json:"tls,omitempty"`
}

// DestinationPatch changes a destination; fields left out stay.
type DestinationPatch struct {
	URL            *string  `json:"url,omitempty"`
	Secret         *string  `json:"secret,omitempty"`
	MaxConcurrency *int     `json:"max_concurrency,omitempty"`
	RatePerSecond  *float64 `json:"rate_per_second,omitempty"`
	Password       *string  `json:"password,omitempty"`
	To             []string `json:"to,omitempty"`
	// Retry replaces the retry policy; {} returns to the defaults.
	Retry *host.RetryPolicy `json:"retry,omitempty"`
}

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
	var req DestinationRequest
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	now := time.Now().UTC()
	d := &host.Destination{Name: req.Name, Kind: req.Kind, URL: req.URL, Secret: req.Secret,
		MaxConcurrency: req.MaxConcurrency, RatePerSecond: req.RatePerSecond, Retry: req.Retry, CreatedAt: now, UpdatedAt: now,
		SMTPHost: req.SMTPHost, SMTPPort: req.SMTPPort, Username: req.Username, Password: req.Password, From: req.From, To: req.To, TLS: req.TLS}
	if bad := d.Validate(); len(bad) > 0 {
		s.abort(c, host.InvalidFields("the destination is not valid", bad))
		return
	}
	if _, err := s.cfg.Alerts.Destination(c.Request.Context(), d.Name); err == nil {
		s.abort(c, host.Errorf(host.ECONFLICT, "alert destination %s already exists", d.Name))
		return
	}
	if err := s.cfg.Alerts.PutDestination(c.Request.Context(), d); err != nil {
		s.abort(c, err)
		return
	}
	c.Header("Location", "/api/v1/alert-destinations/"+d.Name)
	respond(c, http.StatusCreated, d.Public())
}

func (s *Server) listDestinations(c *gin.Context) {
	list, err := s.cfg.Alerts.Destinations(c.Request.Context())
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
	d, err := s.cfg.Alerts.Destination(c.Request.Context(), c.Param("name"))
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, d.Public())
}

func (s *Server) patchDestination(c *gin.Context) {
	var req DestinationPatch
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	d, err := s.cfg.Alerts.Destination(c.Request.Context(), c.Param("name"))
	if err != nil {
		s.abort(c, err)
		return
	}
	if req.URL != nil {
		d.URL = *req.URL
	}
	if req.Secret != nil && *req.Secret != sdk.RedactedValue {
		d.Secret = *req.Secret
	}
	if req.Password != nil && *req.Password != sdk.RedactedValue {
		d.Password = *req.Password
	}
	if req.To != nil {
		d.To = req.To
	}
	if req.MaxConcurrency != nil {
		d.MaxConcurrency = *req.MaxConcurrency
	}
	if req.RatePerSecond != nil {
		d.RatePerSecond = *req.RatePerSecond
	}
	if req.Retry != nil {
		d.Retry = req.Retry
		if *req.Retry == (host.RetryPolicy{}) {
			d.Retry = nil
		}
	}
	if bad := d.Validate(); len(bad) > 0 {
		s.abort(c, host.InvalidFields("the destination is not valid", bad))
		return
	}
	d.UpdatedAt = time.Now().UTC()
	if err := s.cfg.Alerts.PutDestination(c.Request.Context(), d); err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, d.Public())
}

func (s *Server) deleteDestination(c *gin.Context) {
	if err := s.cfg.Alerts.DeleteDestination(c.Request.Context(), c.Param("name")); err != nil {
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
	list, next, err := s.cfg.Alerts.ListDeliveries(c.Request.Context(), f)
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
	n, err := alerts.RedeliverMatching(c.Request.Context(), s.cfg.Alerts, deliveryFilter(queryOf(c)))
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
	d, err := s.cfg.Alerts.Destination(c.Request.Context(), c.Param("name"))
	if err != nil {
		s.abort(c, err)
		return
	}
	// Sending needs no running dispatcher: a host that runs none still
	// tests with the default settings.
	sender := s.cfg.Dispatcher
	if sender == nil {
		sender = alerts.New(s.cfg.Alerts, s.log, alerts.Config{})
	}
	respond(c, http.StatusOK, sender.SendTest(c.Request.Context(), d))
}

func (s *Server) getAlert(c *gin.Context) {
	d, err := s.cfg.Alerts.Delivery(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, d)
}

func (s *Server) redeliverAlert(c *gin.Context) {
	if err := alerts.Redeliver(c.Request.Context(), s.cfg.Alerts, c.Param("id")); err != nil {
		s.abort(c, err)
		return
	}
	if s.cfg.Dispatcher != nil {
		s.cfg.Dispatcher.Notify()
	}
	d, err := s.cfg.Alerts.Delivery(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusAccepted, d)
}
