package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
)

// KeyRequest creates an API key.
type KeyRequest struct {
	Role      string `json:"role"`
	ChannelID string `json:"channel_id,omitempty"`
	Name      string `json:"name,omitempty"`
}

// KeyCreated carries the new key's secret: it is shown here only.
type KeyCreated struct {
	Key    *host.APIKey `json:"key"`
	Secret string       `json:"secret"`
}

// KeyList lists keys without secrets.
type KeyList struct {
	Keys []*host.APIKey `json:"keys"`
}

func (s *Server) createKey(c *gin.Context) {
	var req KeyRequest
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	k, secret, err := s.cfg.Keys.Create(c.Request.Context(), req.Role, req.ChannelID, req.Name)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusCreated, KeyCreated{Key: k, Secret: secret})
}

func (s *Server) listKeys(c *gin.Context) {
	list, err := s.cfg.Store.Keys(c.Request.Context())
	if err != nil {
		s.abort(c, err)
		return
	}
	if list == nil {
		list = []*host.APIKey{}
	}
	respond(c, http.StatusOK, KeyList{Keys: list})
}

func (s *Server) deleteKey(c *gin.Context) {
	if err := s.cfg.Keys.Delete(c.Request.Context(), c.Param("id")); err != nil {
		s.abort(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
