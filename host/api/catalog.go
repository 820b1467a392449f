package api

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/orders"
	"github.com/ordergate/ordergate/host/stockfile"
	"github.com/ordergate/ordergate/sdk"
)

// MaxCatalogItems bounds one catalog request.
const MaxCatalogItems = 10_000

// CatalogRequest creates or replaces catalog items.
type CatalogRequest struct {
	Items []CatalogItemRequest `json:"items"`
}

// CatalogItemRequest is one catalog item; Managed defaults to true.
type CatalogItemRequest struct {
	SKU     string `json:"sku"`
	Title   string `json:"title,omitempty"`
	Managed *bool  `json:"managed,omitempty"`
}

// CatalogList is a page of catalog items.
type CatalogList struct {
	Items      []*host.CatalogItem `json:"items"`
	NextCursor string              `json:"next_cursor,omitempty"`
}

// SourceRequest creates a source; Enabled defaults to true.
type SourceRequest struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Enabled *bool  `json:"enabled,omitempty"`
}

// SourcePatch changes a source; fields left out stay as they are.
type SourcePatch struct {
	Name    *string `json:"name,omitempty"`
	Enabled *bool   `json:"enabled,omitempty"`
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
type InventoryResponse struct {
	Mode         host.InventoryMode `json:"mode"`
	Rows         int                `json:"rows"`
	Changed      int                `json:"changed"`
	Reevaluation orders.Summary     `json:"reevaluation"`
}

// InventoryList is a page of stock levels.
type InventoryList struct {
	Levels     []host.StockLevel `json:"levels"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

// RoutingGroupRequest creates or replaces a routing group. Each source is
// enabled unless it says otherwise.
type RoutingGroupRequest struct {
	ID       string               `json:"id,omitempty"`
	Name     string               `json:"name"`
	Sources  []GroupSourceRequest `json:"sources"`
	Channels []string             `json:"channels,omitempty"`
	Default  bool                 `json:"default,omitempty"`
}

// GroupSourceRequest is one source of a routing group.
type GroupSourceRequest struct {
	SourceID string `json:"source_id"`
	Enabled  *bool  `json:"enabled,omitempty"`
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

// SettingsPatch changes settings; fields left out stay as they are.
type SettingsPatch struct {
	DuplicateProtection *struct {
		Enabled *bool   `json:"enabled,omitempty"`
		Window  *string `json:"window,omitempty"`
	} `json:"duplicate_protection,omitempty"`
	ReevaluateOnInventoryChange *bool `json:"reevaluate_on_inventory_change,omitempty"`
	OpsAlerts                   *struct {
		To              *string `json:"to,omitempty"`
		ChannelFailures *int    `json:"channel_failures,omitempty"`
		ChannelSilence  *string `json:"channel_silence,omitempty"`
	} `json:"ops_alerts,omitempty"`
}

// EditRequest is an operator's edit of an order, with a note for the
// timeline.
type EditRequest struct {
	sdk.Edit
	Note string `json:"note,omitempty"`
}

func (s *Server) putCatalog(c *gin.Context) {
	var req CatalogRequest
	if err := readJSON(c, s.cfg.BatchBodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	var bad []sdk.FieldError
	switch {
	case len(req.Items) == 0:
		bad = append(bad, sdk.FieldError{Field: "items", Detail: "is required"})
	case len(req.Items) > MaxCatalogItems:
		bad = append(bad, sdk.FieldError{Field: "items", Detail: fmt.Sprintf("has %d items; at most %d are accepted", len(req.Items), MaxCatalogItems)})
	}
	items := make([]*host.CatalogItem, len(req.Items))
	seen := map[string]int{}
	for i, it := range req.Items {
		items[i] = &host.CatalogItem{SKU: it.SKU, Title: it.Title, Managed: it.Managed == nil || *it.Managed}
		prefix := fmt.Sprintf("items[%d].", i)
		bad = append(bad, items[i].Validate(prefix)...)
		if j, dup := seen[it.SKU]; dup {
			bad = append(bad, sdk.FieldError{Field: prefix + "sku", Detail: fmt.Sprintf("%q is also items[%d]", it.SKU, j)})
		}
		seen[it.SKU] = i
	}
	if len(bad) > 0 {
		s.abort(c, host.InvalidFields("the catalog items are not valid; nothing was stored", bad))
		return
	}
	if err := s.cfg.Catalog.PutCatalogItems(c.Request.Context(), items); err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, CatalogList{Items: items})
}

func (s *Server) listCatalog(c *gin.Context) {
	q := queryOf(c)
	items, next, err := s.cfg.Catalog.CatalogItems(c.Request.Context(), q.str("cursor"), q.int("limit"))
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
	it, err := s.cfg.Catalog.CatalogItem(c.Request.Context(), c.Param("sku"))
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, it)
}

func (s *Server) deleteCatalogItem(c *gin.Context) {
	if err := s.cfg.Catalog.DeleteCatalogItem(c.Request.Context(), c.Param("sku")); err != nil {
		s.abort(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) createSource(c *gin.Context) {
	var req SourceRequest
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	src := &host.Source{ID: req.ID, Name: req.Name, Enabled: req.Enabled == nil || *req.Enabled}
	if bad := src.Validate(); len(bad) > 0 {
		s.abort(c, host.InvalidFields("the source is not valid", bad))
		return
	}
	if _, err := s.cfg.Catalog.Source(c.Request.Context(), src.ID); err == nil {
		s.abort(c, host.Errorf(host.ECONFLICT, "source %s already exists", src.ID))
		return
	}
	stored, err := s.cfg.Catalog.PutSource(c.Request.Context(), src)
	if err != nil {
		s.abort(c, err)
		return
	}
	c.Header("Location", "/api/v1/sources/"+stored.ID)
	respond(c, http.StatusCreated, stored)
}

func (s *Server) listSources(c *gin.Context) {
	list, err := s.cfg.Catalog.Sources(c.Request.Context())
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
	src, err := s.cfg.Catalog.Source(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, src)
}

func (s *Server) patchSource(c *gin.Context) {
	var req SourcePatch
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	src, err := s.cfg.Catalog.Source(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.abort(c, err)
		return
	}
	if req.Name != nil {
		src.Name = *req.Name
	}
	if req.Enabled != nil {
		src.Enabled = *req.Enabled
	}
	if bad := src.Validate(); len(bad) > 0 {
		s.abort(c, host.InvalidFields("the source is not valid", bad))
		return
	}
	if src, err = s.cfg.Catalog.PutSource(c.Request.Context(), src); err != nil {
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
	resp := InventoryResponse{Mode: mode, Rows: res.Rows, Changed: res.Changed}
	// The stock is committed; the re-evaluation is best effort on top.
	if resp.Reevaluation, err = s.cfg.Orders.InventoryChanged(c.Request.Context(), res.SKUs); err != nil {
		s.log.Warn("re-evaluating held orders after an inventory upload", "error", err)
	}
	respond(c, http.StatusOK, resp)
}

func (s *Server) listInventory(c *gin.Context) {
	q := queryOf(c)
	source, sku := q.str("source_id"), q.str("sku")
	if source == "" && sku == "" {
		s.abort(c, host.InvalidFields("invalid query parameters", []sdk.FieldError{{Field: "source_id", Detail: "give source_id or sku"}}))
		return
	}
	levels, next, err := s.cfg.Catalog.Inventory(c.Request.Context(), source, sku, q.str("cursor"), q.int("limit"))
	if err != nil {
		s.abort(c, err)
		return
	}
	if levels == nil {
		levels = []host.StockLevel{}
	}
	respond(c, http.StatusOK, InventoryList{Levels: levels, NextCursor: next})
}

func (s *Server) routingGroupOf(c *gin.Context, id string) (*host.RoutingGroup, bool) {
	var req RoutingGroupRequest
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return nil, false
	}
	if req.ID != "" && id != "" && req.ID != id {
		s.abort(c, host.InvalidFields("the routing group is not valid", []sdk.FieldError{{Field: "id", Detail: fmt.Sprintf("is %q but the path names %q", req.ID, id)}}))
		return nil, false
	}
	if id == "" {
		id = req.ID
	}
	g := &host.RoutingGroup{ID: id, Name: req.Name, Channels: req.Channels, Default: req.Default, Sources: make([]host.GroupSource, len(req.Sources))}
	if g.Channels == nil {
		g.Channels = []string{}
	}
	for i, gs := range req.Sources {
		g.Sources[i] = host.GroupSource{SourceID: gs.SourceID, Enabled: gs.Enabled == nil || *gs.Enabled}
	}
	if bad := g.Validate(); len(bad) > 0 {
		s.abort(c, host.InvalidFields("the routing group is not valid", bad))
		return nil, false
	}
	return g, true
}

func (s *Server) createRoutingGroup(c *gin.Context) {
	g, ok := s.routingGroupOf(c, "")
	if !ok {
		return
	}
	if _, err := s.cfg.Catalog.RoutingGroup(c.Request.Context(), g.ID); err == nil {
		s.abort(c, host.Errorf(host.ECONFLICT, "routing group %s already exists", g.ID))
		return
	}
	g, err := s.cfg.Catalog.PutRoutingGroup(c.Request.Context(), g)
	if err != nil {
		s.abort(c, err)
		return
	}
	c.Header("Location", "/api/v1/routing-groups/"+g.ID)
	respond(c, http.StatusCreated, g)
}

func (s *Server) putRoutingGroup(c *gin.Context) {
	g, ok := s.routingGroupOf(c, c.Param("id"))
	if !ok {
		return
	}
	if _, err := s.cfg.Catalog.RoutingGroup(c.Request.Context(), g.ID); err != nil {
		s.abort(c, err)
		return
	}
	g, err := s.cfg.Catalog.PutRoutingGroup(c.Request.Context(), g)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, g)
}

func (s *Server) listRoutingGroups(c *gin.Context) {
	list, err := s.cfg.Catalog.RoutingGroups(c.Request.Context())
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
	g, err := s.cfg.Catalog.RoutingGroup(c.Request.Context(), c.Param("id"))
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
	m, err := s.cfg.Catalog.ShippingMappings(c.Request.Context(), c.Param("id"))
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
	if req.Methods == nil {
		s.abort(c, host.InvalidFields("the shipping mappings are not valid", []sdk.FieldError{{Field: "methods", Detail: "is required (an empty object removes every mapping)"}}))
		return
	}
	m := &host.ShippingMappings{ChannelID: c.Param("id"), Methods: req.Methods}
	if bad := m.Validate(); len(bad) > 0 {
		s.abort(c, host.InvalidFields("the shipping mappings are not valid", bad))
		return
	}
	m, err := s.cfg.Catalog.PutShippingMappings(c.Request.Context(), m)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, m)
}

func (s *Server) getSettings(c *gin.Context) {
	st, err := s.cfg.Catalog.Settings(c.Request.Context())
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, st)
}

func (s *Server) patchSettings(c *gin.Context) {
	var req SettingsPatch
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	st, err := s.cfg.Catalog.Settings(c.Request.Context())
	if err != nil {
		s.abort(c, err)
		return
	}
	if dp := req.DuplicateProtection; dp != nil {
		if dp.Enabled != nil {
			st.DuplicateProtection.Enabled = *dp.Enabled
		}
		if dp.Window != nil {
			st.DuplicateProtection.Window = *dp.Window
		}
	}
	if req.ReevaluateOnInventoryChange != nil {
		st.ReevaluateOnInventoryChange = *req.ReevaluateOnInventoryChange
	}
	if o := req.OpsAlerts; o != nil {
		if o.To != nil {
			st.OpsAlerts.To = *o.To
		}
		if o.ChannelFailures != nil {
			st.OpsAlerts.ChannelFailures = *o.ChannelFailures
		}
		if o.ChannelSilence != nil {
			st.OpsAlerts.ChannelSilence = *o.ChannelSilence
		}
	}
	if bad := st.Validate(); len(bad) > 0 {
		s.abort(c, host.InvalidFields("the settings are not valid", bad))
		return
	}
	if st, err = s.cfg.Catalog.PutSettings(c.Request.Context(), st); err != nil {
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
