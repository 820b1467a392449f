// Package stockfile reads inventory uploads: CSV with a header row, or
// JSON. A file is all or nothing: any bad row rejects it, and the error
// names the line and the column of every bad row (up to MaxErrors).
package stockfile

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// MaxErrors bounds how many bad rows one error lists.
const MaxErrors = 20

// Columns of a CSV upload. source_id may be left out when the upload names
// one source for every row.
const (
	ColSource    = "source_id"
	ColSKU       = "sku"
	ColAvailable = "available"
)

// errorList collects the problems of a file.
type errorList struct {
	errs []sdk.FieldError
	more int
}

func (l *errorList) add(field, format string, args ...any) {
	if len(l.errs) == MaxErrors {
		l.more++
		return
	}
	l.errs = append(l.errs, sdk.FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
}

func (l *errorList) err(what string) error {
	if len(l.errs) == 0 {
		return nil
	}
	msg := what + " has bad rows; nothing was applied"
	if l.more > 0 {
		msg += fmt.Sprintf(" (%d more not listed)", l.more)
	}
	return host.InvalidFields(msg, l.errs)
}

// checker validates rows and finds a (source, SKU) pair listed twice.
type checker struct {
	errorList
	defaultSource string
	seen          map[[2]string]string // pair -> where it was first listed
}

func newChecker(defaultSource string) *checker {
	return &checker{defaultSource: defaultSource, seen: map[[2]string]string{}}
}

// check validates one row; where names it ("line 3"), fieldOf names a
// column of it.
func (c *checker) check(l *host.StockLevel, where string, fieldOf func(string) string) {
	if l.SourceID == "" {
		l.SourceID = c.defaultSource
	}
	switch {
	case l.SourceID == "":
		c.add(fieldOf(ColSource), "is required (or name the source with ?source_id=)")
	case c.defaultSource != "" && l.SourceID != c.defaultSource:
		c.add(fieldOf(ColSource), "is %q but the upload is for source %q", l.SourceID, c.defaultSource)
	case !host.ValidID(l.SourceID):
		c.add(fieldOf(ColSource), "%q is not a source id", truncate(l.SourceID))
	}
	if d := host.CheckSKU(l.SKU); d != "" {
		c.add(fieldOf(ColSKU), "%s", d)
	}
	if d := host.CheckAvailable(l.Available); d != "" {
		c.add(fieldOf(ColAvailable), "%s (got %d)", d, l.Available)
	}
	pair := [2]string{l.SourceID, l.SKU}
	if first, ok := c.seen[pair]; ok {
		c.add(fieldOf(ColSKU), "source %s and SKU %q are already listed on %s", l.SourceID, truncate(l.SKU), first)
	} else {
		c.seen[pair] = where
	}
}

// ParseCSV reads a CSV upload. The first row names the columns: sku and
// available, and source_id unless defaultSource is given. Other columns
// are refused, so a misspelt header is caught.
func ParseCSV(r io.Reader, defaultSource string, maxRows int) ([]host.StockLevel, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, host.InvalidFields("the CSV file is empty", []sdk.FieldError{{Field: "line 1", Detail: "needs a header row: source_id,sku,available"}})
	}
	if err != nil {
		return nil, csvError(err)
	}
	col := map[string]int{}
	var bad errorList
	for i, name := range header {
		name = strings.TrimSpace(strings.TrimPrefix(name, "\ufeff"))
		switch name {
		case ColSource, ColSKU, ColAvailable:
			if _, dup := col[name]; dup {
				bad.add("line 1", "column %q appears twice", name)
			}
			col[name] = i
		default:
			bad.add("line 1", "unknown column %q (the columns are source_id, sku, available)", truncate(name))
		}
	}
	for _, need := range []string{ColSKU, ColAvailable} {
		if _, ok := col[need]; !ok {
			bad.add("line 1", "the header has no %q column", need)
		}
	}
	if _, ok := col[ColSource]; !ok && defaultSource == "" {
		bad.add("line 1", "the header has no \"source_id\" column and the upload names no source")
	}
	if err := bad.err("the CSV header"); err != nil {
		return nil, err
	}

	c := newChecker(defaultSource)
	var levels []host.StockLevel
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if len(levels) == maxRows {
			return nil, host.InvalidFields("the file is too long", []sdk.FieldError{{Field: fmt.Sprintf("line %d", line), Detail: fmt.Sprintf("at most %d rows are accepted in one upload", maxRows)}})
		}
		where := fmt.Sprintf("line %d", line)
		fieldOf := func(name string) string { return where + ": " + name }
		l := host.StockLevel{SKU: strings.TrimSpace(rec[col[ColSKU]])}
		if i, ok := col[ColSource]; ok {
			l.SourceID = strings.TrimSpace(rec[i])
		}
		text := strings.TrimSpace(rec[col[ColAvailable]])
		n, perr := strconv.ParseInt(text, 10, 64)
		if perr != nil {
			c.add(fieldOf(ColAvailable), "%q is not a whole number", truncate(text))
			n = 0
		}
		l.Available = n
		c.check(&l, where, fieldOf)
		levels = append(levels, l)
	}
	if err := c.err("the CSV file"); err != nil {
		return nil, err
	}
	return levels, nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return host.InvalidFields("the CSV file cannot be read; nothing was applied",
			[]sdk.FieldError{{Field: fmt.Sprintf("line %d", pe.Line), Detail: pe.Err.Error()}})
	}
	return host.Errorf(host.EINVALID, "reading the CSV file: %v", err)
}

// jsonRow is one level in a JSON upload.
type jsonRow struct {
	SourceID  string `json:"source_id"`
	SKU       string `json:"sku"`
	Available *int64 `json:"available"`
}

// ParseJSON reads a JSON upload: {"levels": [{"source_id", "sku",
// "available"}, ...]}. Errors name the row (levels[3]) and its line.
func ParseJSON(data []byte, defaultSource string, maxRows int) ([]host.StockLevel, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	lineAt := func(offset int64) int { return bytes.Count(data[:min(int(offset), len(data))], []byte{'\n'}) + 1 }
	fail := func(field, format string, args ...any) error {
		return host.InvalidFields("the JSON file cannot be read; nothing was applied", []sdk.FieldError{{
			Field: field, Detail: fmt.Sprintf("line %d: ", lineAt(dec.InputOffset())) + fmt.Sprintf(format, args...),
		}})
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fail("$", "must be an object {\"levels\": [...]}")
	}
	var levels []host.StockLevel
	c := newChecker(defaultSource)
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail("$", "%v", err)
		}
		if key, _ := tok.(string); key != "levels" || found {
			return nil, fail("$", "unexpected field %v (the file has one field, levels)", tok)
		}
		found = true
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			return nil, fail("levels", "must be an array of {source_id, sku, available}")
		}
		for i := 0; dec.More(); i++ {
			if len(levels) == maxRows {
				return nil, fail(fmt.Sprintf("levels[%d]", i), "at most %d rows are accepted in one upload", maxRows)
			}
			where := fmt.Sprintf("levels[%d]", i)
			line := lineAt(dec.InputOffset() + 1)
			var row jsonRow
			if err := dec.Decode(&row); err != nil {
				var te *json.UnmarshalTypeError
				if errors.As(err, &te) {
					want := "string"
					if te.Field == ColAvailable {
						want = "whole number"
					}
					return nil, fail(where+"."+te.Field, "must be a %s, not %s", want, te.Value)
				}
				return nil, fail(where, "%v", err)
			}
			fieldOf := func(name string) string { return fmt.Sprintf("%s.%s (line %d)", where, name, line) }
			l := host.StockLevel{SourceID: row.SourceID, SKU: row.SKU}
			if row.Available == nil {
				c.add(fieldOf(ColAvailable), "is required")
			} else {
				l.Available = *row.Available
			}
			c.check(&l, fmt.Sprintf("%s (line %d)", where, line), fieldOf)
			levels = append(levels, l)
		}
		if _, err := dec.Token(); err != nil {
			return nil, fail("levels", "%v", err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, fail("$", "%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail("$", "only one JSON value is allowed")
	}
	if !found {
		return nil, fail("levels", "is required")
	}
	if err := c.err("the JSON file"); err != nil {
		return nil, err
	}
	return levels, nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
