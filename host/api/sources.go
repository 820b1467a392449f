package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
)

// SourceList lists sources.
type SourceList struct {
	Sources []*host.Source `json:"sources"`
}

func (s *Server) createSource(c *gin.Context) {
	var req host.SourceRequest
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	src, err := s.cfg.Catalog.CreateSource(c.Request.Context(), &req)
	if err != nil {
		s.abort(c, err)
		return
	}
	c.Header("Location", "/api/v1/sources/"+src.ID)
	respond(c, http.StatusCreated, src)
}

func (s *Server) listSources(c *gin.Context) {
	list, err := s.cfg.Store.Sources(c.Request.Context())
	if err != nil {
		s.abort(c, err)
		return
	}
	if list == nil {
		list = []*host.Source{}
	}
	respond(c, http.StatusOK, SourceList{Sources: list})
}

func (s *Server) getSource(c *gin.Context) {
	src, err := s.cfg.Store.Source(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, src)
}

func (s *Server) patchSource(c *gin.Context) {
	var req host.SourcePatch
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	src, err := s.cfg.Catalog.UpdateSource(c.Request.Context(), c.Param("id"), &req)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, src)
}

func (s *Server) deleteSource(c *gin.Context) {
	if err := s.cfg.Catalog.DeleteSource(c.Request.Context(), c.Param("id")); err != nil {
		s.abort(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
