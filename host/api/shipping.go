package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// ShippingMappingsRequest replaces a channel's shipping mappings: shipping
// method as the channel names it -> shipping policy.
type ShippingMappingsRequest struct {
	Methods map[string]string `json:"methods"`
}

func (s *Server) getShippingMappings(c *gin.Context) {
	m, err := s.cfg.Store.ShippingMappings(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, m)
}

func (s *Server) putShippingMappings(c *gin.Context) {
	var req ShippingMappingsRequest
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	m, err := s.cfg.Catalog.PutShippingMappings(c.Request.Context(), c.Param("id"), req.Methods)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, m)
}
