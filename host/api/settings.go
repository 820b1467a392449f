package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
)

func (s *Server) getSettings(c *gin.Context) {
	st, err := s.cfg.Store.Settings(c.Request.Context())
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, st)
}

func (s *Server) patchSettings(c *gin.Context) {
	var req host.SettingsPatch
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	st, err := s.cfg.Catalog.UpdateSettings(c.Request.Context(), &req)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, st)
}
