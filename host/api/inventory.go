package api

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/catalog"
	"github.com/ordergate/ordergate/host/stockfile"
	"github.com/ordergate/ordergate/sdk"
)

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
