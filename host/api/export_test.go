package api

import (
	"strconv"
	"strings"
)

// Route is a route of the table as the tests of package api_test see it.
type Route struct {
	Method, Path, Role string
	Query              []Param
}

// Param is a declared query parameter: a value the route takes, and
// values its declaration refuses (none for a text parameter that takes
// any string).
type Param struct {
	Name string
	Good string
	Bad  []string
}

// Routes returns the route table.
func Routes() []Route {
	var out []Route
	for _, rt := range (&Server{}).routes() {
		r := Route{Method: rt.method, Path: rt.path, Role: rt.role}
		for _, p := range rt.query {
			r.Query = append(r.Query, Param{Name: p.name, Good: goodValue(p), Bad: badValues(p)})
		}
		out = append(out, r)
	}
	return out
}

func goodValue(p param) string {
	switch v := p.exampleValue().(type) {
	case nil:
		return "x"
	case int:
		return strconv.Itoa(v)
	default:
		return v.(string)
	}
}

// badValues are values of the wrong kind or out of the declared range.
func badValues(p param) []string {
	switch p.kind {
	case kindEnum:
		return []string{"no_such_" + p.enum[0], strings.ToUpper(p.enum[0])}
	case kindInt:
		return []string{"x", "1.5", strconv.Itoa(p.min - 1), strconv.Itoa(p.max + 1)}
	case kindTime:
		return []string{"monday", "2026-11-28", "2026-11-28 09:30:00"}
	}
	var bad []string
	if p.valid != nil {
		for _, v := range []string{"Not An ID", "-x", strings.Repeat("a", 300)} {
			if !p.valid(v) {
				bad = append(bad, v)
			}
		}
	}
	return bad
}
