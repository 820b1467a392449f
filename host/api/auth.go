package api

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
)

const ctxKey = "ordergate.key"

// authenticate checks the bearer key and its role against the route's
// (host.APIKey.MayUse): RoleAdmin for admin-only routes, RoleReseller for
// routes reseller keys may use too, RoleMetrics for /metrics.
func (s *Server) authenticate(role string) gin.HandlerFunc {
	return func(c *gin.Context) {
		secret, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		if !ok || secret == "" {
			s.abort(c, host.Errorf(host.EUNAUTHORIZED, "send an API key as \"Authorization: Bearer <key>\""))
			return
		}
		key, err := s.cfg.Store.KeyByHash(c.Request.Context(), host.HashKey(strings.TrimSpace(secret)))
		if err != nil {
			s.abort(c, err)
			return
		}
		if !key.MayUse(role) {
			needs := "an admin key"
			switch role {
			case host.RoleReseller:
				needs = "an admin, operator or reseller key"
			case host.RoleOperator:
				needs = "an admin or operator key"
			case host.RoleMetrics:
				needs = "an admin or metrics key"
			}
			s.abort(c, host.Errorf(host.EFORBIDDEN, "this route needs %s; this key's role is %s", needs, key.Role))
			return
		}
		if wait := s.limits.wait(key); wait > 0 {
			c.Header("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			s.abort(c, host.Errorf(host.ETOOMANY, "this key is over its rate limit of %g requests per second; retry after %s", s.limits.rate, wait.Round(time.Millisecond)))
			return
		}
		c.Set(ctxKey, key)
		// The services check the actor of what they do.
		c.Request = c.Request.WithContext(host.WithActor(c.Request.Context(), key))
		c.Next()
	}
}

// keyLimits holds a token bucket per reseller key.
type keyLimits struct {
	rate  float64
	burst int
	mu    sync.Mutex
	byKey map[string]*rate.Limiter
}

// wait takes a token for a request of key and returns 0, or, when the
// key's bucket is empty, how long until it has one (the request is not
// counted).
func (l *keyLimits) wait(key *host.APIKey) time.Duration {
	if l.rate <= 0 || key.Role == host.RoleAdmin || key.Role == host.RoleOperator { // staff's keys are not limited
		return 0
	}
	l.mu.Lock()
	lim := l.byKey[key.ID]
	if lim == nil {
		lim = rate.NewLimiter(rate.Limit(l.rate), max(l.burst, 1))
		l.byKey[key.ID] = lim
	}
	l.mu.Unlock()
	r := lim.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return d
	}
	return 0
}

func keyOf(c *gin.Context) *host.APIKey { return c.MustGet(ctxKey).(*host.APIKey) }
