package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

// csvFields are the canonical columns of a CSV file, one row per line
// item. The order's fields come from its first row.
var csvFields = []string{
	"number", "external_id", "placed_at", "currency",
	"customer.name", "customer.email", "customer.phone",
	"shipping_address.name", "shipping_address.company", "shipping_address.address1", "shipping_address.address2",
	"shipping_address.city", "shipping_address.region", "shipping_address.postal_code", "shipping_address.country",
	"billing_address.name", "billing_address.company", "billing_address.address1", "billing_address.address2",
	"billing_address.city", "billing_address.region", "billing_address.postal_code", "billing_address.country",
	"shipping_method", "note", "tags",
	"totals.subtotal", "totals.shipping", "totals.tax", "totals.total",
	"line_items.sku", "line_items.title", "line_items.quantity", "line_items.unit_price",
}

// columnMapping returns canonical field -> CSV header: the canonical name
// itself unless the channel config maps it to another header.
func columnMapping(custom map[string]string) (map[string]string, error) {
	m := make(map[string]string, len(csvFields))
	for _, f := range csvFields {
		m[f] = f
	}
	var bad []sdk.FieldError
	for field, header := range custom {
		if !slices.Contains(csvFields, field) {
			bad = append(bad, sdk.FieldError{Field: cfgCSVColumns + "." + field, Detail: "is not a canonical CSV field (see the connector's README)"})
			continue
		}
		if strings.TrimSpace(header) == "" {
			bad = append(bad, sdk.FieldError{Field: cfgCSVColumns + "." + field, Detail: "names no header"})
			continue
		}
		m[field] = header
	}
	if len(bad) > 0 {
		slices.SortFunc(bad, func(a, b sdk.FieldError) int { return strings.Compare(a.Field, b.Field) })
		return nil, &sdk.Error{Kind: sdk.ErrInvalidConfig, Message: "the configuration is not valid", Fields: bad}
	}
	return m, nil
}

// parseFile reads every order of a file, or returns why the file cannot
// be imported; a file is never imported in part.
func parseFile(name string, data []byte, format string, columns map[string]string) ([]sdk.Order, error) {
	if format == "auto" {
		switch strings.ToLower(filepath.Ext(name)) {
		case ".csv":
			format = "csv"
		case ".ndjson", ".jsonl":
			format = "ndjson"
		default:
			format = "json"
		}
	}
	var orders []sdk.Order
	var err error
	switch format {
	case "csv":
		orders, err = parseCSV(data, columns)
	case "ndjson":
		orders, err = parseNDJSON(data)
	default:
		orders, err = parseJSON(data)
	}
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	for i := range orders {
		o := &orders[i]
		if err := o.Validate(); err != nil {
			return nil, fmt.Errorf("order %d (%s): %w", i+1, label(o), err)
		}
		if j, dup := seen[o.ExternalID]; dup {
			return nil, fmt.Errorf("orders %d and %d have the same external_id %q", j+1, i+1, o.ExternalID)
		}
		seen[o.ExternalID] = i
	}
	return orders, nil
}

func label(o *sdk.Order) string {
	if o.Number != "" {
		return "number " + o.Number
	}
	return fmt.Sprintf("external_id %q", o.ExternalID)
}

func decodeOrder(data []byte, o *sdk.Order) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(o); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the order")
	}
	return nil
}

// parseJSON reads an array of orders, or one order.
func parseJSON(data []byte) ([]sdk.Order, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errors.New("the file is empty")
	}
	if trimmed[0] != '[' {
		var o sdk.Order
		if err := decodeOrder(trimmed, &o); err != nil {
			return nil, fmt.Errorf("not a JSON order or array of orders: %w", err)
		}
		return []sdk.Order{o}, nil
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return nil, fmt.Errorf("not a JSON array of orders: %w", err)
	}
	orders := make([]sdk.Order, len(raw))
	for i, r := range raw {
		if err := decodeOrder(r, &orders[i]); err != nil {
			return nil, fmt.Errorf("order %d: %w", i+1, err)
		}
	}
	return orders, nil
}

// parseNDJSON reads one order per line; blank lines are skipped.
func parseNDJSON(data []byte) ([]sdk.Order, error) {
	var orders []sdk.Order
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		var o sdk.Order
		if err := decodeOrder(text, &o); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		orders = append(orders, o)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return orders, nil
}

// parseCSV reads one row per line item and groups rows by order number,
// in the order numbers first appear.
func parseCSV(data []byte, columns map[string]string) ([]sdk.Order, error) {
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("reading the CSV header: %w", err)
	}
	index := map[string]int{} // canonical field -> column
	byHeader := map[string]string{}
	for field, h := range columns {
		byHeader[h] = field
	}
	for i, h := range header {
		h = strings.TrimSpace(h)
		field, ok := byHeader[h]
		if !ok {
			return nil, fmt.Errorf("line 1: column %q is neither a canonical field nor mapped in csv_columns", h)
		}
		index[field] = i
	}
	for _, need := range []string{"number", "line_items.quantity", "line_items.unit_price"} {
		if _, ok := index[need]; !ok {
			return nil, fmt.Errorf("line 1: no column for %s (header %q)", need, columns[need])
		}
	}
	var orders []*sdk.Order
	byNumber := map[string]*sdk.Order{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		line, _ := r.FieldPos(0)
		get := func(field string) string {
			if i, ok := index[field]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		number := get("number")
		if number == "" {
			return nil, fmt.Errorf("line %d: %s is empty", line, columns["number"])
		}
		o := byNumber[number]
		if o == nil {
			o, err = csvOrder(get, line)
			if err != nil {
				return nil, err
			}
			byNumber[number] = o
			orders = append(orders, o)
		}
		qty, err := strconv.ParseInt(get("line_items.quantity"), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: %s %q is not a whole number", line, columns["line_items.quantity"], get("line_items.quantity"))
		}
		o.LineItems = append(o.LineItems, sdk.LineItem{
			SKU: get("line_items.sku"), Title: get("line_items.title"), Quantity: qty, UnitPrice: sdk.Money(get("line_items.unit_price")),
		})
	}
	out := make([]sdk.Order, len(orders))
	for i, o := range orders {
		out[i] = *o
	}
	return out, nil
}

// csvOrder builds an order's own fields from its first row.
func csvOrder(get func(string) string, line int) (*sdk.Order, error) {
	o := &sdk.Order{
		Number: get("number"), ExternalID: get("external_id"), Currency: get("currency"),
		Customer:       sdk.Customer{Name: get("customer.name"), Email: get("customer.email"), Phone: get("customer.phone")},
		ShippingMethod: get("shipping_method"), Note: get("note"),
		Totals: sdk.Totals{Subtotal: sdk.Money(get("totals.subtotal")), Shipping: sdk.Money(get("totals.shipping")),
			Tax: sdk.Money(get("totals.tax")), Total: sdk.Money(get("totals.total"))},
	}
	if o.ExternalID == "" {
		o.ExternalID = o.Number
	}
	if v := get("placed_at"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, fmt.Errorf("line %d: placed_at %q is not an RFC 3339 time", line, v)
		}
		o.PlacedAt = t
	}
	address := func(prefix string) sdk.Address {
		return sdk.Address{Name: get(prefix + ".name"), Company: get(prefix + ".company"), Address1: get(prefix + ".address1"),
			Address2: get(prefix + ".address2"), City: get(prefix + ".city"), Region: get(prefix + ".region"),
			PostalCode: get(prefix + ".postal_code"), Country: get(prefix + ".country")}
	}
	o.ShippingAddress = address("shipping_address")
	if b := address("billing_address"); b != (sdk.Address{}) {
		o.BillingAddress = &b
	}
	if tags := get("tags"); tags != "" {
		for _, t := range strings.Split(tags, ";") {
			if t = strings.TrimSpace(t); t != "" {
				o.Tags = append(o.Tags, t)
			}
		}
	}
	return o, nil
}
