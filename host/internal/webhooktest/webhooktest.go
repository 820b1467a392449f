// Package webhooktest is a webhook receiver for tests: it verifies every
// delivery's Standard Webhooks signature twice, with an implementation
// of the scheme of its own (written from the specification, sharing no
// code with the host's signer) and with the Standard Webhooks project's
// Go library, and records what it received.
package webhooktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Verify checks a delivery as the Standard Webhooks specification says:
// the webhook-signature header lists space-separated "v1,<base64>"
// signatures, one of which must be the HMAC-SHA256, keyed with the
// base64-decoded part of secret after "whsec_", of
// "<webhook-id>.<webhook-timestamp>.<body>"; the timestamp must be within
// tolerance of now.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("webhook-timestamp %q is not Unix seconds", ts)
	}
	if d := now.Sub(time.Unix(secs, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook-timestamp %s is %s from now", ts, d)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return fmt.Errorf("the secret is not whsec_ and base64: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", id, ts, body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errors.New("no v1 signature matches")
}

// Delivery is one request the receiver accepted.
type Delivery struct {
	ID     string // webhook-id
	Header http.Header
	Body   []byte
	// Event is the body decoded as an event's.
	Event Event
}

// Event is the body of an event's delivery, as a receiver reads it.
type Event struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      struct {
		ID    string         `json:"id"`
		Actor string         `json:"actor"`
		Order map[string]any `json:"order"`
		Alert map[string]any `json:"alert"`
	} `json:"data"`
}

// Receiver is a webhook receiver on loopback.
type Receiver struct {
	URL    string
	secret string // guarded by mu
	// Fail, when it returns true for a delivery (and the number of
	// verified attempts with its webhook-id, this one included), has the
	// receiver answer 503 to it.
	Fail func(d Delivery, attempt int) bool

	mu        sync.Mutex
	lib       *standardwebhooks.Webhook
	got       []Delivery
	refused   []string
	attempts  map[string]int
	delivered chan struct{}
}

// New starts a receiver whose deliveries must be signed with secret;
// with "", SetSecret must give it before the first delivery (a secret the
// host generates when the destination is created with the receiver's URL).
func New(t testing.TB, secret string) *Receiver {
	r := &Receiver{attempts: map[string]int{}, delivered: make(chan struct{}, 1)}
	if secret != "" {
		if err := r.SetSecret(secret); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		own, libErr := errors.New("no secret set"), error(nil)
		if r.lib != nil {
			own = Verify(r.secret, req.Header, body, time.Now(), 5*time.Minute)
			libErr = r.lib.Verify(body, req.Header)
		}
		if own != nil || libErr != nil {
			r.refused = append(r.refused, fmt.Sprintf("%s: own verifier: %v; library: %v", req.Header.Get("webhook-id"), own, libErr))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		d := Delivery{ID: req.Header.Get("webhook-id"), Header: req.Header.Clone(), Body: body}
		if err := json.Unmarshal(body, &d.Event); err != nil {
			r.refused = append(r.refused, d.ID+": "+err.Error())
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		r.attempts[d.ID]++
		if r.Fail != nil && r.Fail(d, r.attempts[d.ID]) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		r.got = append(r.got, d)
		select {
		case r.delivered <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// SetSecret sets the secret deliveries must be signed with.
func (r *Receiver) SetSecret(secret string) error {
	lib, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return fmt.Errorf("the Standard Webhooks library refuses the secret: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secret, r.lib = secret, lib
	return nil
}

// Received returns the deliveries accepted so far, in arrival order.
func (r *Receiver) Received() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.got...)
}

// Refused lists the deliveries whose signature or body failed.
func (r *Receiver) Refused() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.refused...)
}

// Attempts is how many verified requests came with the webhook-id.
func (r *Receiver) Attempts(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts[id]
}

// WaitFor waits until ok holds for the deliveries accepted, or fails
// the test after timeout.
func (r *Receiver) WaitFor(t testing.TB, timeout time.Duration, what string, ok func([]Delivery) bool) []Delivery {
	t.Helper()
	deadline := time.After(timeout)
	for {
		got := r.Received()
		if ok(got) {
			return got
		}
		select {
		case <-r.delivered:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; received %d deliveries, refused %v", what, len(got), r.Refused())
		}
	}
}
