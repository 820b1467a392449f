package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/sdk"
)

func TestParseCSVWithMapping(t *testing.T) {
	columns, err := columnMapping(map[string]string{"number": "Order #", "line_items.sku": "SKU", "line_items.quantity": "Qty",
		"line_items.unit_price": "Price", "shipping_address.country": "Country", "totals.total": "Total"})
	if err != nil {
		t.Fatal(err)
	}
	data := "Order #,placed_at,currency,shipping_address.address1,Country,Total,SKU,Qty,Price,tags\n" +
		"1001,2026-11-28T09:30:00Z,USD,1 Main St,US,35.00,A1,1,10.00,web; gift\n" +
		"1002,2026-11-28T09:31:00Z,USD,2 Main St,US,5.00,C3,1,5.00,\n" +
		"1001,2026-11-28T09:30:00Z,USD,1 Main St,US,35.00,B2,1,25.00,web; gift\n"
	orders, err := parseFile("x.csv", []byte(data), "auto", columns)
	if err != nil {
		t.Fatal(err)
	}
	if len(orders) != 2 || orders[0].ExternalID != "1001" || len(orders[0].LineItems) != 2 || orders[0].LineItems[1].SKU != "B2" ||
		strings.Join(orders[0].Tags, "|") != "web|gift" || orders[1].Number != "1002" {
		t.Errorf("orders = %+v", orders)
	}
}

func TestParseRejectsTheWholeFile(t *testing.T) {
	columns, _ := columnMapping(nil)
	for name, tc := range map[string]struct{ file, data, want string }{
		"invalid order":       {"a.json", `[{"external_id": "1", "number": "1", "placed_at": "2026-11-28T09:30:00Z", "currency": "USD", "shipping_address": {"country": "US"}, "line_items": [{"quantity": 0, "unit_price": "1.00"}], "totals": {"total": "1.00"}}]`, "order 1 (number 1)"},
		"unknown field":       {"a.json", `{"external_id": "1", "colour": "red"}`, "colour"},
		"truncated":           {"a.json", `[{"external_id": "1"`, "not a JSON array"},
		"ndjson bad line":     {"a.ndjson", "{\"external_id\": \"1\"}\n{nope}\n", "line 2"},
		"csv unknown column":  {"a.csv", "number,colour\n1,red\n", `column "colour"`},
		"csv bad quantity":    {"a.csv", "number,line_items.quantity,line_items.unit_price\n1,two,1.00\n", "line 2"},
		"duplicate ids":       {"a.ndjson", strings.Repeat(`{"external_id": "1", "number": "1", "placed_at": "2026-11-28T09:30:00Z", "currency": "USD", "shipping_address": {"country": "US"}, "line_items": [{"quantity": 1, "unit_price": "1.00"}], "totals": {"total": "1.00"}}`+"\n", 2), "same external_id"},
		"empty json":          {"a.json", "  ", "empty"},
		"csv without numbers": {"a.csv", "number,line_items.quantity,line_items.unit_price\n,1,1.00\n", "line 2"},
	} {
		if _, err := parseFile(tc.file, []byte(tc.data), "auto", columns); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", name, err, tc.want)
		}
	}
	if _, err := columnMapping(map[string]string{"colour": "Colour"}); sdk.KindOf(err) != sdk.ErrInvalidConfig {
		t.Errorf("mapping an unknown field: %v", err)
	}
}

// sink collects pages.
type sink struct{ pages []page }

type page struct {
	orders   []sdk.Order
	cursor   string
	problems []sdk.Problem
}

func (s *sink) Send(orders []sdk.Order, cursor string, problems ...sdk.Problem) error {
	s.pages = append(s.pages, page{orders, cursor, problems})
	return nil
}

// TestReplacedFileIsNew: a file replaced under the same name after it was
// sent is imported again, not moved away unread.
func TestReplacedFileIsNew(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.json")
	writeJSON(t, path, []any{fixtureOrder("1")})
	c := New()
	cfg := sdk.Config{"folder": dir, "format": "auto", "max_files": 10, "page_size": 10}
	var first sink
	if err := c.GetOrders(context.Background(), cfg, "", &first); err != nil || len(first.pages) != 1 {
		t.Fatalf("first import: %v %+v", err, first.pages)
	}
	writeJSON(t, path, []any{fixtureOrder("2")}) // replaced before the host confirmed
	var second sink
	if err := c.GetOrders(context.Background(), cfg, first.pages[0].cursor, &second); err != nil {
		t.Fatal(err)
	}
	if len(second.pages) != 1 || second.pages[0].orders[0].ExternalID != "2" {
		t.Fatalf("the replaced file was not imported: %+v", second.pages)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the replaced file was moved before the host confirmed it: %v", err)
	}
	var third sink
	if err := c.GetOrders(context.Background(), cfg, second.pages[0].cursor, &third); err != nil || len(third.pages) != 0 {
		t.Fatalf("third import: %v %+v", err, third.pages)
	}
	if _, err := os.Stat(filepath.Join(dir, processedDir, "a.json")); err != nil {
		t.Errorf("the confirmed file is not in processed/: %v", err)
	}
}

// TestFailedFilesKeepTheirOwnNotes: two bad files of one name each get
// their error note.
func TestFailedFilesKeepTheirOwnNotes(t *testing.T) {
	dir := t.TempDir()
	cfg := sdk.Config{"folder": dir, "format": "auto", "max_files": 10, "page_size": 10}
	for _, body := range []string{`[{"external_id": "1"`, `{nope}`} {
		if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		var s sink
		if err := New().GetOrders(context.Background(), cfg, "", &s); err != nil || len(s.pages) != 1 || len(s.pages[0].problems) != 1 {
			t.Fatalf("%v %+v", err, s.pages)
		}
	}
	notes, _ := filepath.Glob(filepath.Join(dir, failedDir, "*.error.txt"))
	files, _ := filepath.Glob(filepath.Join(dir, failedDir, "*.json"))
	if len(notes) != 2 || len(files) != 2 {
		t.Errorf("failed/ holds files %v and notes %v, want two of each", files, notes)
	}
}
