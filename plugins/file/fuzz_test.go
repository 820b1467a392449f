package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseFile feeds arbitrary bytes as a CSV, NDJSON or JSON file to the
// file connector's parser. It must not panic, and a file it accepts has
// only valid orders with distinct external ids (a file is imported whole
// or not at all); and format auto reads a file as its extension says.
func FuzzParseFile(f *testing.F) {
	order, err := os.ReadFile(filepath.Join("..", "..", "sdk", "testdata", "order-1203.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add("orders.json", order)
	f.Add("orders.json", append(append([]byte("["), order...), ']'))
	f.Add("orders.ndjson", []byte(`{"external_id":"1","number":"1","placed_at":"2026-11-28T09:30:00Z","currency":"USD","shipping_address":{"country":"US"},"line_items":[{"sku":"A","quantity":1,"unit_price":"1.00"}],"totals":{"total":"1.00"}}`+"\n\n"))
	f.Add("orders.csv", []byte("external_id,number,placed_at,currency,shipping_address.country,line_items.sku,line_items.quantity,line_items.unit_price,totals.total\n"+
		"1,#1,2026-11-28T09:30:00Z,USD,US,V789,5,19.99,99.95\n1,#1,2026-11-28T09:30:00Z,USD,US,G120,1,4.50,99.95\n"))
	f.Add("orders.csv", []byte("external_id,quantity\n\"1,2\n"))
	f.Add("orders.csv", []byte("\xef\xbb\xbfexternal_id\n\xff\n"))
	columns, err := columnMapping(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		results := map[string]string{}
		for _, format := range []string{"auto", "csv", "ndjson", "json"} {
			orders, err := parseFile(name, data, format, columns)
			results[format] = fmt.Sprint(orders, err)
			if err != nil {
				continue
			}
			seen := map[string]bool{}
			for i := range orders {
				if err := orders[i].Validate(); err != nil {
					t.Fatalf("%s as %s: accepted an invalid order: %v", name, format, err)
				}
				if seen[orders[i].ExternalID] {
					t.Fatalf("%s as %s: accepted external id %q twice", name, format, orders[i].ExternalID)
				}
				seen[orders[i].ExternalID] = true
			}
		}
		// auto reads the file as its extension says.
		byExt := map[string]string{".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson"}[strings.ToLower(filepath.Ext(name))]
		if byExt == "" {
			byExt = "json"
		}
		if results["auto"] != results[byExt] {
			t.Fatalf("%s: auto read %s, %s read %s", name, results["auto"], byExt, results[byExt])
		}
	})
}
