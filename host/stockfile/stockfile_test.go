package stockfile_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/stockfile"
)

func TestParseCSV(t *testing.T) {
	for _, tc := range []struct {
		name, file, source string
		want               []host.StockLevel
		wantField          string // the first error's field
		wantDetail         string // part of its detail
	}{
		{name: "header and rows", file: "source_id,sku,available\naustin,V789,5\ndallas,V789,0\n",
			want: []host.StockLevel{{SourceID: "austin", SKU: "V789", Available: 5}, {SourceID: "dallas", SKU: "V789", Available: 0}}},
		{name: "columns in any order, spaces and a BOM", file: "\ufeffavailable, sku ,source_id\r\n 7 ,A1,austin\r\n",
			want: []host.StockLevel{{SourceID: "austin", SKU: "A1", Available: 7}}},
		{name: "source from the upload", file: "sku,available\nA1,3\n", source: "austin",
			want: []host.StockLevel{{SourceID: "austin", SKU: "A1", Available: 3}}},
		{name: "header only", file: "source_id,sku,available\n", want: nil},
		{name: "empty file", file: "", wantField: "line 1", wantDetail: "header"},
		{name: "unknown column", file: "source_id,sku,qty\n", wantField: "line 1", wantDetail: `unknown column "qty"`},
		{name: "no source anywhere", file: "sku,available\nA1,3\n", wantField: "line 1", wantDetail: "source_id"},
		{name: "negative", file: "source_id,sku,available\naustin,A1,2\naustin,B2,-1\n", wantField: "line 3: available", wantDetail: "negative"},
		{name: "fractional", file: "source_id,sku,available\naustin,A1,2.5\n", wantField: "line 2: available", wantDetail: "whole number"},
		{name: "too large", file: "source_id,sku,available\naustin,A1,99999999999\n", wantField: "line 2: available", wantDetail: "at most"},
		{name: "missing sku", file: "source_id,sku,available\naustin,,2\n", wantField: "line 2: sku", wantDetail: "required"},
		{name: "bad source id", file: "source_id,sku,available\nAustin DC,A1,2\n", wantField: "line 2: source_id", wantDetail: "not a source id"},
		{name: "other source than the upload's", file: "source_id,sku,available\ndallas,A1,2\n", source: "austin", wantField: "line 2: source_id", wantDetail: "for source"},
		{name: "pair listed twice", file: "source_id,sku,available\naustin,A1,2\naustin,A1,3\n", wantField: "line 3: sku", wantDetail: "line 2"},
		{name: "wrong number of fields", file: "source_id,sku,available\naustin,A1\n", wantField: "line 2", wantDetail: "wrong number of fields"},
		{name: "bare quote", file: "source_id,sku,available\naustin,\"A1,2\n", wantField: "line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := stockfile.ParseCSV(strings.NewReader(tc.file), tc.source, 1000)
			check(t, got, err, tc.want, tc.wantField, tc.wantDetail)
		})
	}
}

func TestParseJSON(t *testing.T) {
	for _, tc := range []struct {
		name, file, source string
		want               []host.StockLevel
		wantField          string
		wantDetail         string
	}{
		{name: "levels", file: `{"levels": [{"source_id": "austin", "sku": "V789", "available": 5}]}`,
			want: []host.StockLevel{{SourceID: "austin", SKU: "V789", Available: 5}}},
		{name: "source from the upload", file: `{"levels": [{"sku": "A1", "available": 0}]}`, source: "austin",
			want: []host.StockLevel{{SourceID: "austin", SKU: "A1", Available: 0}}},
		{name: "empty levels", file: `{"levels": []}`, want: nil},
		{name: "not an object", file: `[1]`, wantField: "$"},
		{name: "no levels", file: `{}`, wantField: "levels", wantDetail: "required"},
		{name: "unknown top field", file: `{"rows": []}`, wantField: "$", wantDetail: "rows"},
		{name: "unknown row field", file: "{\"levels\": [\n{\"source_id\": \"austin\", \"sku\": \"A1\", \"available\": 1, \"qty\": 2}]}", wantField: "levels[0]", wantDetail: "line 2"},
		{name: "fractional, on its line", file: "{\"levels\": [\n{\"source_id\": \"austin\", \"sku\": \"A1\", \"available\": 1},\n{\"source_id\": \"austin\", \"sku\": \"B2\", \"available\": 1.5}]}",
			wantField: "levels[1].available", wantDetail: "line 3: must be a whole number"},
		{name: "missing available", file: `{"levels": [{"source_id": "austin", "sku": "A1"}]}`, wantField: "levels[0].available (line 1)", wantDetail: "required"},
		{name: "negative", file: `{"levels": [{"source_id": "austin", "sku": "A1", "available": -3}]}`, wantField: "levels[0].available (line 1)", wantDetail: "negative"},
		{name: "truncated", file: `{"levels": [{"source_id": "austin"`, wantField: "levels[0]"},
		{name: "trailing value", file: `{"levels": []} {}`, wantField: "$", wantDetail: "one JSON value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := stockfile.ParseJSON([]byte(tc.file), tc.source, 1000)
			check(t, got, err, tc.want, tc.wantField, tc.wantDetail)
		})
	}
}

func TestRowLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("source_id,sku,available\n")
	for i := range 11 {
		fmt.Fprintf(&b, "austin,S%d,1\n", i)
	}
	_, err := stockfile.ParseCSV(strings.NewReader(b.String()), "", 10)
	check(t, nil, err, nil, "line 12", "at most 10")
}

// TestManyBadRows lists the first MaxErrors problems and counts the rest.
func TestManyBadRows(t *testing.T) {
	var b strings.Builder
	b.WriteString("source_id,sku,available\n")
	for i := range 50 {
		fmt.Fprintf(&b, "austin,S%d,-1\n", i)
	}
	_, err := stockfile.ParseCSV(strings.NewReader(b.String()), "", 1000)
	var he *host.Error
	if !errors.As(err, &he) || len(he.Fields) != stockfile.MaxErrors || !strings.Contains(he.Message, "30 more") {
		t.Fatalf("error = %v", err)
	}
}

func check(t *testing.T, got []host.StockLevel, err error, want []host.StockLevel, wantField, wantDetail string) {
	t.Helper()
	if wantField == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		return
	}
	var he *host.Error
	if !errors.As(err, &he) || he.Code != host.EINVALID || len(he.Fields) == 0 {
		t.Fatalf("want an invalid error naming %q, got %v (levels %v)", wantField, err, got)
	}
	if f := he.Fields[0]; f.Field != wantField || !strings.Contains(f.Detail, wantDetail) {
		t.Fatalf("first error = %+v, want field %q with %q", f, wantField, wantDetail)
	}
}

// FuzzParse feeds arbitrary bytes to both parsers: they must return rows
// that are all valid or an invalid-input error, never panic.
func FuzzParse(f *testing.F) {
	f.Add("source_id,sku,available\naustin,V789,5\n", "")
	f.Add("sku,available\nA1,3\n", "austin")
	f.Add(`{"levels": [{"source_id": "austin", "sku": "V789", "available": 5}]}`, "")
	f.Add("source_id,sku,available\naustin,\"A1,2\n", "")
	f.Fuzz(func(t *testing.T, data, source string) {
		for _, parse := range []func() ([]host.StockLevel, error){
			func() ([]host.StockLevel, error) { return stockfile.ParseCSV(strings.NewReader(data), source, 100) },
			func() ([]host.StockLevel, error) { return stockfile.ParseJSON([]byte(data), source, 100) },
		} {
			levels, err := parse()
			if err != nil {
				if host.ErrorCode(err) != host.EINVALID {
					t.Fatalf("error of code %s: %v", host.ErrorCode(err), err)
				}
				continue
			}
			for _, l := range levels {
				if !host.ValidID(l.SourceID) || host.CheckSKU(l.SKU) != "" || host.CheckAvailable(l.Available) != "" {
					t.Fatalf("accepted a bad row %+v", l)
				}
			}
		}
	})
}
