// Package alerts delivers the workflow's alerts. Deliveries are written
// by the order store in the transaction of the decision that raised them
// (a transactional outbox); the Dispatcher sends each at least once to its
// destination, retries with exponential back-off and jitter for more than
// a day by default (see DefaultRetry), and then marks it failed (the dead
// letter), where an operator can see it and redeliver it.
package alerts

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/wneessen/go-mail"
	"golang.org/x/time/rate"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// Config tunes the dispatcher.
type Config struct {
	// Tick is how often it looks for due deliveries (default 500ms);
	// Notify wakes it sooner.
	Tick time.Duration
	// Retry is the retry policy of destinations that set none of their
	// own; zero fields take DefaultRetry's.
	Retry host.RetryPolicy
	// MaxAttempts, when set, overrides Retry.MaxAttempts.
	MaxAttempts int
	// BaseBackoff and MaxBackoff shape the retry waits (default 30s, 4h):
	// the wait after the n-th failed attempt is BaseBackoff·2^(n-1), at
	// most MaxBackoff, less up to a quarter of it at random (jitter).
	BaseBackoff, MaxBackoff time.Duration
	// Timeout bounds one attempt (default 10s).
	Timeout time.Duration
	// HTTP sends webhook and Slack deliveries.
	HTTP *http.Client
	// Ops, when set, is told of dead-lettered alerts.
	Ops *Ops
	// SMTPTLS, when set, is the TLS configuration of SMTP connections
	// (e.g. a private CA); the system roots otherwise.
	SMTPTLS *tls.Config
	// Now is the clock (default time.Now, in UTC); tests set their own.
	Now func() time.Time
	// Attempts, when set, is told of every attempt (the metrics).
	Attempts AttemptObserver
	// Wake, when set, is the signal the dispatcher waits on besides its
	// tick (Notify sends it; so may others, such as Ops).
	Wake *Wake
}

// Wake signals the dispatcher that deliveries may be due. Whoever queues
// deliveries sends it; sends while one is pending merge into one.
type Wake struct{ c chan struct{} }

// NewWake returns a signal.
func NewWake() *Wake { return &Wake{c: make(chan struct{}, 1)} }

// Notify sends the signal; a nil Wake sends nothing.
func (w *Wake) Notify() {
	if w == nil {
		return
	}
	select {
	case w.c <- struct{}{}:
	default:
	}
}

// AttemptObserver is told of each delivery attempt: its destination and
// result, "delivered", "retry" or "dead".
type AttemptObserver interface {
	ObserveAttempt(destination, result string)
}

// The default retry schedule: 20 attempts, waits from 30s doubling up to
// 4h, within 72h of the first attempt. Without jitter the 20th attempt
// comes 44 hours after the first; with the most jitter, 33 hours.
var DefaultRetry = host.RetryPolicy{MaxAttempts: 20, MaxAge: "72h"}

// Default back-off bounds.
const (
	DefaultBaseBackoff = 30 * time.Second
	DefaultMaxBackoff  = 4 * time.Hour
)

// Wait returns the range of the wait after the n-th failed attempt:
// base·2^(n-1) capped at max is the most, three quarters of it the least.
func Wait(base, max time.Duration, n int) (least, most time.Duration) {
	most = max
	if n-1 < 40 && base<<(n-1) > 0 && base<<(n-1) < max {
		most = base << (n - 1)
	}
	return most - most/4, most
}

// Dispatcher delivers due alerts.
type Dispatcher struct {
	store host.AlertStore
	log   hclog.Logger
	cfg   Config
	now   func() time.Time
	wake  *Wake

	mu       sync.Mutex
	limiters map[string]*limiter
	inflight map[string]bool // delivery ids being sent
}

// limiter is a destination's concurrency and rate limit.
type limiter struct {
	slots chan struct{}
	rate  *rate.Limiter
}

// New returns a dispatcher.
func New(store host.AlertStore, log hclog.Logger, cfg Config) *Dispatcher {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if cfg.Tick <= 0 {
		cfg.Tick = 500 * time.Millisecond
	}
	if cfg.MaxAttempts > 0 {
		cfg.Retry.MaxAttempts = cfg.MaxAttempts
	}
	if cfg.Retry.MaxAttempts <= 0 {
		cfg.Retry.MaxAttempts = DefaultRetry.MaxAttempts
	}
	if cfg.Retry.MaxAge == "" {
		cfg.Retry.MaxAge = DefaultRetry.MaxAge
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = DefaultBaseBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	if cfg.Wake == nil {
		cfg.Wake = NewWake()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{}
	}
	return &Dispatcher{store: store, log: log.Named("alerts"), cfg: cfg, now: cfg.Now,
		wake: cfg.Wake, limiters: map[string]*limiter{}, inflight: map[string]bool{}}
}

// Notify wakes the dispatcher: new deliveries may be due.
func (d *Dispatcher) Notify() { d.wake.Notify() }

// Run delivers until ctx ends, then waits for deliveries in flight.
// Pending deliveries stay in the store for the next start.
func (d *Dispatcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(d.cfg.Tick)
	defer t.Stop()
	for {
		due, err := d.store.DueDeliveries(ctx, d.now(), 256)
		if err != nil && ctx.Err() == nil {
			d.log.Error("reading due alerts", "error", err)
		}
		for _, dl := range due {
			d.mu.Lock()
			busy := d.inflight[dl.ID]
			d.inflight[dl.ID] = true
			d.mu.Unlock()
			if busy {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				d.attempt(ctx, dl)
				d.mu.Lock()
				delete(d.inflight, dl.ID)
				d.mu.Unlock()
			}()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.wake.c:
		}
	}
}

// destinationFor returns the destination of an alert: the named one; the
// log when no destination at all is configured; nil when the name is
// unknown.
func (d *Dispatcher) destinationFor(ctx context.Context, name string) (*host.Destination, error) {
	dest, err := d.store.Destination(ctx, name)
	if err == nil {
		return dest, nil
	}
	if host.ErrorCode(err) != host.ENOTFOUND {
		return nil, err
	}
	all, err := d.store.Destinations(ctx)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return &host.Destination{Name: name, Kind: host.DestinationLog}, nil
	}
	return nil, nil
}

func (d *Dispatcher) limiterOf(dest *host.Destination) *limiter {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := dest.Name + "\x00" + strconv.Itoa(dest.MaxConcurrency) + "\x00" + strconv.FormatFloat(dest.RatePerSecond, 'g', -1, 64)
	l := d.limiters[key]
	if l == nil {
		n := dest.MaxConcurrency
		if n <= 0 {
			n = 4
		}
		r := dest.RatePerSecond
		if r <= 0 {
			r = 10
		}
		l = &limiter{slots: make(chan struct{}, n), rate: rate.NewLimiter(rate.Limit(r), max(1, int(r)))}
		d.limiters[key] = l
	}
	return l
}

// attempt makes one delivery attempt and records its outcome.
func (d *Dispatcher) attempt(ctx context.Context, dl *host.Delivery) {
	dest, err := d.destinationFor(ctx, dl.Alert.To)
	if err != nil {
		d.log.Error("looking up an alert destination", "alert", dl.ID, "error", err)
		return
	}
	if dest == nil {
		// Never dropped silently: visible as failed, with the reason.
		dl.Status, dl.LastError = host.DeliveryFailed, fmt.Sprintf("unknown destination %q: configure it under /api/v1/alert-destinations", dl.Alert.To)
		d.record(dl)
		d.log.Warn("alert to an unknown destination", "alert", dl.ID, "to", dl.Alert.To)
		return
	}
	l := d.limiterOf(dest)
	select {
	case l.slots <- struct{}{}:
		defer func() { <-l.slots }()
	case <-ctx.Done():
		return
	}
	if err := l.rate.Wait(ctx); err != nil {
		return
	}
	callCtx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	_, err = d.send(callCtx, dest, dl)
	cancel()
	if ctx.Err() != nil {
		return // stopping: the delivery stays pending for the next start
	}
	dl.Attempts++
	now := d.now()
	maxAttempts, maxAge := d.retryOf(dest)
	next := now.Add(d.backoff(dl.Attempts))
	switch {
	case err == nil:
		dl.Status, dl.LastError, dl.DeliveredAt = host.DeliveryDelivered, "", &now
	case dl.Attempts >= maxAttempts || next.Sub(dl.AttemptsFrom()) > maxAge:
		dl.Status, dl.LastError = host.DeliveryFailed, fmt.Sprintf("gave up after %s over %s: %v", attempts(dl.Attempts), now.Sub(dl.AttemptsFrom()).Round(time.Second), err)
		d.log.Error("alert dead-lettered", "alert", dl.ID, "to", dest.Name, "error", err)
		// An operational alert's dead letter raises no alert, nor does the
		// event of one: a receiver that is down would raise them forever.
		if d.cfg.Ops != nil && dl.Alert.Package != "host" && (dl.Event == nil || dl.Event.Type != host.EventOpsPrefix+host.OpsAlertDeadLettered) {
			d.cfg.Ops.Raise(ctx, host.AlertDeadLettered{DeliveryID: dl.ID, Destination: dest.Name, OrderNumber: dl.OrderNumber,
				Attempts: dl.Attempts, Error: err.Error(), QueuedAt: dl.AttemptsFrom()})
		}
	default:
		dl.LastError = err.Error()
		dl.NextAttemptAt = next
		d.log.Warn("alert delivery failed; will retry", "alert", dl.ID, "to", dest.Name, "attempt", dl.Attempts, "next_attempt_at", next, "error", err)
	}
	if d.cfg.Attempts != nil {
		result := "retry"
		switch dl.Status {
		case host.DeliveryDelivered:
			result = "delivered"
		case host.DeliveryFailed:
			result = "dead"
		}
		d.cfg.Attempts.ObserveAttempt(dest.Name, result)
	}
	d.record(dl)
}

// attempts says "1 attempt", "n attempts".
func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

// retryOf returns the retry bounds of a destination: its own policy's,
// else the dispatcher's.
func (d *Dispatcher) retryOf(dest *host.Destination) (int, time.Duration) {
	attempts, age := d.cfg.Retry.MaxAttempts, d.cfg.Retry.MaxAge
	if p := dest.Retry; p != nil {
		if p.MaxAttempts > 0 {
			attempts = p.MaxAttempts
		}
		if p.MaxAge != "" {
			age = p.MaxAge
		}
	}
	maxAge, err := time.ParseDuration(age)
	if err != nil {
		maxAge, _ = time.ParseDuration(DefaultRetry.MaxAge)
	}
	return attempts, maxAge
}

func (d *Dispatcher) record(dl *host.Delivery) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.store.PutDelivery(ctx, dl); err != nil {
		d.log.Error("recording an alert delivery", "alert", dl.ID, "error", err)
	}
}

// backoff is the wait after the n-th failed attempt: exponential,
// capped, with jitter (see Wait).
func (d *Dispatcher) backoff(n int) time.Duration {
	least, most := Wait(d.cfg.BaseBackoff, d.cfg.MaxBackoff, n)
	return least + rand.N(most-least+1)
}

// Payload is the JSON body of a webhook delivery.
type Payload struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	Alert     any       `json:"alert"`
	// Order is the order a rule's alert is about; operational alerts
	// (alert.package "host") are about no order and have none.
	Order *PayloadOrder `json:"order,omitempty"`
}

// PayloadOrder names the order of a webhook delivery.
type PayloadOrder struct {
	ID        string `json:"id"`
	Number    string `json:"number"`
	ChannelID string `json:"channel_id"`
	Path      string `json:"path"`
}

// Signature headers of webhook deliveries.
const (
	HeaderID        = "X-Ordergate-Alert-Id"
	HeaderTimestamp = "X-Ordergate-Timestamp"
	HeaderSignature = "X-Ordergate-Signature"
)

// Sign returns the signature of a webhook body sent at timestamp (Unix
// seconds): "v1=" and the hex HMAC-SHA256, with the secret, of
// "<timestamp>.<body>".
func Sign(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d.", timestamp)
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// send makes one attempt to deliver dl to dest and returns the HTTP
// status the receiver answered (0 for destinations that are not HTTP).
func (d *Dispatcher) send(ctx context.Context, dest *host.Destination, dl *host.Delivery) (int, error) {
	path := "/api/v1/orders/" + dl.OrderID
	switch dest.Kind {
	case host.DestinationLog:
		if ev := dl.Event; ev != nil {
			d.log.Info("event", "event", ev.ID, "type", ev.Type, "to", dl.Alert.To, "order", ev.OrderID, "number", dl.OrderNumber, "actor", ev.Actor)
			return 0, nil
		}
		d.log.Info("alert", "alert", dl.ID, "to", dl.Alert.To, "severity", dl.Alert.Severity, "rule", dl.Alert.Rule,
			"order", dl.OrderID, "number", dl.OrderNumber, "message", dl.Alert.Message)
		return 0, nil
	case host.DestinationSlack:
		text := fmt.Sprintf("*%s* order %s: %s (rule %s) — %s", dl.Alert.Severity, dl.OrderNumber, dl.Alert.Message, dl.Alert.Rule, path)
		body, _ := json.Marshal(map[string]string{"text": text})
		return d.post(ctx, dest.URL, body, nil)
	case host.DestinationEmail:
		return 0, d.email(ctx, dest, dl, path)
	case host.DestinationWebhook:
		body, headers, err := webhook(dest, dl, time.Now().Unix())
		if err != nil {
			return 0, err
		}
		return d.post(ctx, dest.URL, body, headers)
	}
	return 0, fmt.Errorf("destination %s has unknown kind %q", dest.Name, dest.Kind)
}

func (d *Dispatcher) post(ctx context.Context, url string, body []byte, headers map[string]string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ordergate-alerts")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := d.cfg.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode/100 != 2 {
		return res.StatusCode, &ReceiverError{StatusCode: res.StatusCode, Status: res.Status}
	}
	return res.StatusCode, nil
}

// Redeliver puts a failed (or delivered) alert back in the queue, due now,
// with a fresh count of attempts.
func Redeliver(ctx context.Context, store host.AlertStore, id string) error {
	if _, err := host.Authorize(ctx, host.RoleOperator); err != nil {
		return err
	}
	dl, err := store.Delivery(ctx, id)
	if err != nil {
		return err
	}
	if err := dl.Requeue(time.Now().UTC()); err != nil {
		return err
	}
	return store.PutDelivery(ctx, dl)
}

// RedeliverMatching puts every failed or delivered alert f selects back
// in the queue (f.Status empty means failed), a page at a time, and
// returns how many it queued. Pending alerts are queued already.
func RedeliverMatching(ctx context.Context, store host.AlertStore, f host.DeliveryFilter) (int, error) {
	if _, err := host.Authorize(ctx, host.RoleOperator); err != nil {
		return 0, err
	}
	if f.Status == "" {
		f.Status = host.DeliveryFailed
	}
	if f.Status == host.DeliveryPending {
		return 0, host.InvalidFields("pending alerts are queued already", []sdk.FieldError{{Field: "status", Detail: "must be failed or delivered"}})
	}
	f.After, f.Limit = "", 500
	queued := 0
	now := time.Now().UTC()
	for {
		page, next, err := store.ListDeliveries(ctx, f)
		if err != nil {
			return queued, err
		}
		for _, dl := range page {
			if err := dl.Requeue(now); err != nil {
				return queued, err
			}
		}
		if len(page) > 0 {
			if err := store.PutDeliveries(ctx, page); err != nil {
				return queued, err
			}
		}
		queued += len(page)
		if next == "" {
			return queued, nil
		}
		f.After = next
	}
}

// TestResult is the outcome of sending a test alert to a destination.
type TestResult struct {
	OK bool `json:"ok"`
	// StatusCode is the HTTP status the receiver answered (webhook and
	// Slack destinations), 0 when it answered none.
	StatusCode int    `json:"status_code,omitempty"`
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	// AlertID is the id the test alert was sent with.
	AlertID string `json:"alert_id"`
}

// SendTest sends a test alert to the destination now, signed as any
// other, and says what happened. It is not queued or retried.
func (d *Dispatcher) SendTest(ctx context.Context, dest *host.Destination) TestResult {
	now := d.now()
	dl := &host.Delivery{ID: host.NewID("test_"), Alert: sdk.Alert{To: dest.Name, Severity: "info", Rule: "destination_test", Package: "host",
		Message: "a test alert from ordergate: this destination receives alerts"}, Status: host.DeliveryPending, CreatedAt: now, QueuedAt: now}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	start := time.Now()
	code, err := d.send(ctx, dest, dl)
	res := TestResult{OK: err == nil, StatusCode: code, DurationMS: time.Since(start).Milliseconds(), AlertID: dl.ID}
	if err != nil {
		res.Error = err.Error()
	}
	return res
}

// ReceiverError is a receiver's answer that is not a success.
type ReceiverError struct {
	StatusCode int
	Status     string
}

func (e *ReceiverError) Error() string { return "the receiver answered " + e.Status }

// email sends the alert as a plain-text email through the destination's
// SMTP server, with the alert id as Message-ID so mail systems
// de-duplicate a redelivery.
func (d *Dispatcher) email(ctx context.Context, dest *host.Destination, dl *host.Delivery, path string) error {
	m := mail.NewMsg()
	if err := m.From(dest.From); err != nil {
		return err
	}
	if err := m.To(dest.To...); err != nil {
		return err
	}
	m.Subject(fmt.Sprintf("[ordergate] %s alert: order %s", dl.Alert.Severity, dl.OrderNumber))
	m.SetMessageIDWithValue(dl.ID + "@ordergate")
	m.SetBodyString(mail.TypeTextPlain, fmt.Sprintf("%s\n\nOrder: %s (%s, channel %s)\nRule: %s (package %s)\nAlert id: %s\nOrder path: %s\n",
		dl.Alert.Message, dl.OrderNumber, dl.OrderID, dl.ChannelID, dl.Alert.Rule, dl.Alert.Package, dl.ID, path))
	port := dest.SMTPPort
	if port == 0 {
		port = 587
	}
	opts := []mail.Option{mail.WithPort(port), mail.WithTimeout(d.cfg.Timeout)}
	switch dest.TLS {
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case "opportunistic":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if d.cfg.SMTPTLS != nil {
		cfg := d.cfg.SMTPTLS.Clone()
		cfg.ServerName = dest.SMTPHost
		opts = append(opts, mail.WithTLSConfig(cfg))
	}
	if dest.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(dest.Username), mail.WithPassword(dest.Password))
	}
	c, err := mail.NewClient(dest.SMTPHost, opts...)
	if err != nil {
		return err
	}
	return c.DialAndSendWithContext(ctx, m)
}
