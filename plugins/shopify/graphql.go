package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

// client calls one shop's GraphQL Admin API, paced by Shopify's
// cost-based leaky bucket.
type client struct {
	endpoint string
	token    string
	http     *http.Client
	// sleep waits (tests record it); it returns early with ctx's error.
	sleep func(ctx context.Context, d time.Duration) error
	// maxRetries bounds retries of one request after throttling, 429 and
	// 5xx; maxBackoff caps one wait.
	maxRetries int
	maxBackoff time.Duration

	// The bucket as the last response described it.
	available, restoreRate, lastCost float64
}

// response is the envelope of a GraphQL response.
type response struct {
	Data       json.RawMessage `json:"data"`
	Errors     []gqlError      `json:"errors"`
	Extensions struct {
		Cost *struct {
			RequestedQueryCost float64  `json:"requestedQueryCost"`
			ActualQueryCost    *float64 `json:"actualQueryCost"`
			ThrottleStatus     struct {
				MaximumAvailable   float64 `json:"maximumAvailable"`
				CurrentlyAvailable float64 `json:"currentlyAvailable"`
				RestoreRate        float64 `json:"restoreRate"`
			} `json:"throttleStatus"`
		} `json:"cost"`
	} `json:"extensions"`
}

type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pace waits until the bucket holds the last query's cost again, so the
// next request is not throttled.
func (c *client) pace(ctx context.Context) error {
	if c.restoreRate <= 0 || c.available >= c.lastCost {
		return nil
	}
	wait := time.Duration((c.lastCost - c.available) / c.restoreRate * float64(time.Second))
	return c.sleep(ctx, min(wait, c.maxBackoff))
}

// backoff is the wait before retry n (from 0): exponential with full
// jitter, capped.
func (c *client) backoff(n int) time.Duration {
	d := min(time.Second<<min(n, 10), c.maxBackoff)
	return d/2 + rand.N(d/2+1)
}

// query runs a GraphQL query into out (the "data" object), retrying
// throttled requests, 429 and 5xx with back-off.
func (c *client) query(ctx context.Context, q string, vars map[string]any, out any) error {
	body, err := json.Marshal(map[string]any{"query": q, "variables": vars})
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		if err := c.pace(ctx); err != nil {
			return err
		}
		resp, retryAfter, err := c.post(ctx, body)
		var retry bool
		switch {
		case err == nil:
		case errors.Is(err, errRetryable):
			retry = true
		default:
			return err
		}
		if resp != nil {
			c.track(resp)
			if throttled(resp) {
				retry = true
				if c.restoreRate > 0 && c.lastCost > c.available {
					retryAfter = time.Duration((c.lastCost - c.available) / c.restoreRate * float64(time.Second))
				}
			}
		}
		if retry {
			if attempt >= c.maxRetries {
				return sdk.Errorf(sdk.ErrUnavailable, "Shopify kept refusing the request (throttled or failing) after %d attempts; the import resumes on the next run", attempt+1)
			}
			wait := c.backoff(attempt)
			if retryAfter > wait {
				wait = min(retryAfter+c.backoff(0)/4, c.maxBackoff)
			}
			if err := c.sleep(ctx, wait); err != nil {
				return err
			}
			continue
		}
		if err := graphQLErrors(resp.Errors); err != nil {
			return err
		}
		if len(resp.Data) == 0 || string(resp.Data) == "null" {
			return sdk.Errorf(sdk.ErrUnavailable, "Shopify's response has no data")
		}
		if err := json.Unmarshal(resp.Data, out); err != nil {
			return sdk.Errorf(sdk.ErrUnavailable, "Shopify's response could not be read: %v", err)
		}
		return nil
	}
}

var errRetryable = errors.New("retryable")

// post sends one request. It returns the decoded response, or
// errRetryable (with Retry-After) for 429 and 5xx, or an *sdk.Error.
func (c *client) post(ctx context.Context, body []byte) (*response, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, 0, sdk.Errorf(sdk.ErrInvalidConfig, "the shop address gives no valid URL: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Access-Token", c.token)
	res, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		return nil, 0, sdk.Errorf(sdk.ErrUnavailable, "cannot reach %s: %v; check the shop domain (e.g. my-store.myshopify.com)", hostOf(c.endpoint), err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 256<<20))
	if err != nil {
		return nil, 0, sdk.Errorf(sdk.ErrUnavailable, "reading Shopify's response: %v", err)
	}
	retryAfter := time.Duration(0)
	if s := res.Header.Get("Retry-After"); s != "" {
		var secs float64
		if _, err := fmt.Sscan(s, &secs); err == nil {
			retryAfter = time.Duration(secs * float64(time.Second))
		}
	}
	switch {
	case res.StatusCode == http.StatusUnauthorized:
		return nil, 0, sdk.Errorf(sdk.ErrUnauthenticated, "Shopify rejected the access token (401); create a new Admin API access token in the store's admin under Settings > Apps and sales channels > Develop apps")
	case res.StatusCode == http.StatusForbidden:
		return nil, 0, sdk.Errorf(sdk.ErrPermissionDenied, "Shopify refused access (403); the app needs the read_orders scope")
	case res.StatusCode == http.StatusNotFound:
		return nil, 0, sdk.Errorf(sdk.ErrNotFound, "%s has no Admin API at that version (404); check the shop domain and api_version", hostOf(c.endpoint))
	case res.StatusCode == http.StatusPaymentRequired || res.StatusCode == 423:
		return nil, 0, sdk.Errorf(sdk.ErrUnavailable, "the store is frozen or locked (%d)", res.StatusCode)
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		var r response
		if json.Unmarshal(data, &r) == nil {
			return &r, retryAfter, errRetryable
		}
		return nil, retryAfter, errRetryable
	case res.StatusCode != http.StatusOK:
		return nil, 0, sdk.Errorf(sdk.ErrUnavailable, "Shopify answered %s", res.Status)
	}
	var r response
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, 0, sdk.Errorf(sdk.ErrUnavailable, "Shopify's response is not JSON: %v", err)
	}
	return &r, 0, nil
}

// track reads the bucket state from a response.
func (c *client) track(r *response) {
	if cost := r.Extensions.Cost; cost != nil {
		c.available = cost.ThrottleStatus.CurrentlyAvailable
		c.restoreRate = cost.ThrottleStatus.RestoreRate
		c.lastCost = cost.RequestedQueryCost
	}
}

func throttled(r *response) bool {
	for _, e := range r.Errors {
		if e.Extensions.Code == "THROTTLED" || strings.EqualFold(e.Message, "Throttled") {
			return true
		}
	}
	return false
}

func graphQLErrors(errs []gqlError) error {
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Message
		if e.Extensions.Code == "ACCESS_DENIED" {
			return sdk.Errorf(sdk.ErrPermissionDenied, "Shopify denied access: %s; grant the app the read_orders scope (and read_all_orders for orders older than 60 days)", e.Message)
		}
	}
	return sdk.Errorf(sdk.ErrUnavailable, "Shopify returned errors: %s", strings.Join(msgs, "; "))
}

func hostOf(endpoint string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(endpoint, "https://"), "http://")
	host, _, _ := strings.Cut(s, "/")
	return host
}
