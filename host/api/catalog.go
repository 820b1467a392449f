package api

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/catalog"
	"github.com/ordergate/ordergate/host/stockfile"
	"github.com/ordergate/ordergate/sdk"
)

// CatalogList is a page of catalog items.
type CatalogList struct {
	Items      []*host.CatalogItem `json:"items"`
	NextCursor string              `json:"next_cursor,omitempty"`
}

// SourceList lists sources.
type SourceList struct {
	Sources []*host.Source `json:"sources"`
}

// InventoryJSON is the JSON form of an inventory upload.
type InventoryJSON struct {
	Levels []host.StockLevel `json:"levels"`
}

// InventoryResponse reports an applied upload and the re-evaluation of
// the held orders it touched.
type InventoryResponse catalog.InventoryResult

// InventoryList is a page of stock levels.
type InventoryList struct {
	Levels     []host.StockLevel `json:"levels"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

// RoutingGroupList lists routing groups.
type RoutingGroupList struct {
	RoutingGroups []*host.RoutingGroup `json:"routing_groups"`
}

// ShippingMappingsRequest replaces a channel's shipping mappings: shipping
// method as the channel names it -> shipping policy.
type ShippingMappingsRequest struct {
	Methods map[string]string `json:"methods"`
}

// EditRequest is an operator's edit of an order, with a note for the
// timeline.
type EditRequest struct {
	sdk.Edit
	Note string `json:"note,omitempty"`
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

func (s *Server) uploadInventory(c *gin.Context) {
	q := queryOf(c)
	mode, source := host.InventoryMode(q.str("mode")), q.str("source_id")
	body, err := readBody(c, s.cfg.InventoryBodyLimit)
	if err != nil {
		s.abort(c, err)
		return
	}
	var levels []host.StockLevel
	switch mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type")); mt {
	case "text/csv":
		levels, err = stockfile.ParseCSV(bytes.NewReader(body), source, host.MaxInventoryRows)
	case "application/json":
		levels, err = stockfile.ParseJSON(body, source, host.MaxInventoryRows)
	default:
		err = &host.Error{Code: host.EUNSUPPORTED, Message: "an inventory upload is text/csv or application/json",
			Fields: []sdk.FieldError{{Field: "Content-Type", Detail: fmt.Sprintf("%q is not text/csv or application/json", mt)}}}
	}
	if err != nil {
		s.abort(c, err)
		return
	}
	res, err := s.cfg.Catalog.SetInventory(c.Request.Context(), levels, mode)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, InventoryResponse(res))
}

func (s *Server) listInventory(c *gin.Context) {
	q := queryOf(c)
	source, sku := q.str("source_id"), q.str("sku")
	if source == "" && sku == "" {
		s.abort(c, host.InvalidFields("invalid query parameters", []sdk.FieldError{{Field: "source_id", Detail: "give source_id or sku"}}))
		return
	}
	levels, next, err := s.cfg.Store.Inventory(c.Request.Context(), source, sku, q.str("cursor"), q.int("limit"))
	if err != nil {
		s.abort(c, err)
		return
	}
	if levels == nil {
		levels = []host.StockLevel{}
	}
	respond(c, http.StatusOK, InventoryList{Levels: levels, NextCursor: next})
}

func (s *Server) createRoutingGroup(c *gin.Context) {
	var req host.RoutingGroupRequest
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	g, err := s.cfg.Catalog.CreateRoutingGroup(c.Request.Context(), &req)
	if err != nil {
		s.abort(c, err)
		return
	}
	c.Header("Location", "/api/v1/routing-groups/"+g.ID)
	respond(c, http.StatusCreated, g)
}

func (s *Server) putRoutingGroup(c *gin.Context) {
	var req host.RoutingGroupRequest
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	g, err := s.cfg.Catalog.ReplaceRoutingGroup(c.Request.Context(), c.Param("id"), &req)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, g)
}

func (s *Server) patchRoutingGroup(c *gin.Context) {
	var req host.RoutingGroupPatch
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	g, err := s.cfg.Catalog.UpdateRoutingGroup(c.Request.Context(), c.Param("id"), &req)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, g)
}

func (s *Server) listRoutingGroups(c *gin.Context) {
	list, err := s.cfg.Store.RoutingGroups(c.Request.Context())
	if err != nil {
		s.abort(c, err)
		return
	}
	if list == nil {
		list = []*host.RoutingGroup{}
	}
	respond(c, http.StatusOK, RoutingGroupList{RoutingGroups: list})
}

func (s *Server) getRoutingGroup(c *gin.Context) {
	g, err := s.cfg.Store.RoutingGroup(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, g)
}

func (s *Server) deleteRoutingGroup(c *gin.Context) {
	if err := s.cfg.Catalog.DeleteRoutingGroup(c.Request.Context(), c.Param("id")); err != nil {
		s.abort(c, err)
		return
	}
	c.Status(http.StatusNoContent)
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

func (s *Server) editOrder(c *gin.Context) {
	var req EditRequest
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	if len(req.Note) > sdk.MaxTextLength {
		s.abort(c, host.InvalidFields("the edit is not valid", []sdk.FieldError{{Field: "note", Detail: fmt.Sprintf("must be at most %d bytes", sdk.MaxTextLength)}}))
		return
	}
	r, err := s.cfg.Orders.Edit(c.Request.Context(), c.Param("id"), keyOf(c).Actor(), &req.Edit, req.Note)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, r.View())
}

func (s *Server) reevaluateMatching(c *gin.Context) {
	f := orderFilter(queryOf(c))
	sum, err := s.cfg.Orders.ReevaluateMatching(c.Request.Context(), f, keyOf(c).Actor())
	if err != nil && !errors.Is(err, c.Request.Context().Err()) {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, sum)
}
