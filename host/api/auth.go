package api

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
)

const ctxKey = "ordergate.key"

// authenticate checks the bearer key and its role. role is RoleAdmin for
// admin-only routes and RoleReseller for routes both roles may use.
func (s *Server) authenticate(role string) gin.HandlerFunc {
	return func(c *gin.Context) {
		secret, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		if !ok || secret == "" {
			s.abort(c, host.Errorf(host.EUNAUTHORIZED, "send an API key as \"Authorization: Bearer <key>\""))
			return
		}
		key, err := s.cfg.Keys.KeyByHash(c.Request.Context(), host.HashKey(strings.TrimSpace(secret)))
		if err != nil {
			s.abort(c, err)
			return
		}
		if role == host.RoleAdmin && key.Role != host.RoleAdmin {
			s.abort(c, host.Errorf(host.EFORBIDDEN, "this route needs an admin key"))
			return
		}
		c.Set(ctxKey, key)
		c.Next()
	}
}

func keyOf(c *gin.Context) *host.APIKey { return c.MustGet(ctxKey).(*host.APIKey) }
