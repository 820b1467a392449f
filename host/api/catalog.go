package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
)

// CatalogList is a page of catalog items.
type CatalogList struct {
	Items      []*host.CatalogItem `json:"items"`
	NextCursor string              `json:"next_cursor,omitempty"`
}

func (s *Server) putCatalog(c *gin.Context) {
	var req host.CatalogRequest
	if err := readJSON(c, s.cfg.BatchBodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	items, err := s.cfg.Catalog.PutItems(c.Request.Context(), &req)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, CatalogList{Items: items})
}

func (s *Server) listCatalog(c *gin.Context) {
	q := queryOf(c)
	items, next, err := s.cfg.Store.CatalogItems(c.Request.Context(), q.str("cursor"), q.int("limit"))
	if err != nil {
		s.abort(c, err)
		return
	}
	if items == nil {
		items = []*host.CatalogItem{}
	}
	respond(c, http.StatusOK, CatalogList{Items: items, NextCursor: next})
}

func (s *Server) getCatalogItem(c *gin.Context) {
	it, err := s.cfg.Store.CatalogItem(c.Request.Context(), c.Param("sku"))
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, it)
}

func (s *Server) deleteCatalogItem(c *gin.Context) {
	if err := s.cfg.Catalog.DeleteItem(c.Request.Context(), c.Param("sku")); err != nil {
		s.abort(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
