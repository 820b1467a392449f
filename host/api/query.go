package api

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// paramKind is the type of a query parameter's value.
type paramKind int

const (
	kindText paramKind = iota // any string (valid may narrow it)
	kindEnum                  // one of enum
	kindInt                   // a whole number from min to max
	kindTime                  // an RFC 3339 time
)

// param declares one query parameter of a route. It is the single source
// of the parameter: checkQuery refuses a request that gives a parameter
// its route does not declare, gives one twice or gives a value the
// declaration refuses, the handler reads the parsed value from queryOf,
// and the OpenAPI document describes the parameter with schema().
//
// An empty value (?status=) is the parameter not given, as it always was.
// Every parameter takes one value; a list parameter would need a kind of
// its own here and in the document.
type param struct {
	name, desc string
	kind       paramKind
	enum       []string // kindEnum: the values taken
	min, max   int      // kindInt: the range
	// def is the value when the parameter is not given, written as a
	// client would write it; "" is none.
	def string
	// example is a value the route takes, for the document; kinds other
	// than text have one without it.
	example string
	// valid, for kindText, narrows the values taken; mustBe says what it
	// wants ("a source id: ...").
	valid  func(string) bool
	mustBe string
}

// textParam is a parameter that takes any string.
func textParam(name, desc, example string) param {
	return param{name: name, desc: desc, example: example}
}

// enumParam is a parameter that takes one of values.
func enumParam(name, desc string, values ...string) param {
	return param{name: name, desc: desc, kind: kindEnum, enum: values}
}

// timeParam is a parameter that takes an RFC 3339 time.
func timeParam(name, desc string) param {
	return param{name: name, desc: desc, kind: kindTime}
}

// cursorParam and limitParam page through a list.
var cursorParam = textParam("cursor", "The next_cursor of the previous page; there are no more pages when a page has none.", "")

func limitParam(def, max int) param {
	return param{name: "limit", desc: "The most items a page has.", kind: kindInt, min: 1, max: max, def: strconv.Itoa(def)}
}

// withDefault is p with a default value.
func (p param) withDefault(def string) param {
	p.def = def
	return p
}

const exampleTime = "2026-11-28T09:30:00Z"

// parse checks a given value and returns it as the handler reads it: a
// string, an int or a time.Time. detail, when not "", says why the value
// is refused.
func (p param) parse(v string) (value any, detail string) {
	switch p.kind {
	case kindEnum:
		for _, e := range p.enum {
			if v == e {
				return v, ""
			}
		}
		return nil, "must be " + orList(p.enum)
	case kindInt:
		n, err := strconv.Atoi(v)
		if err != nil || n < p.min || n > p.max {
			return nil, fmt.Sprintf("must be a whole number from %d to %d", p.min, p.max)
		}
		return n, ""
	case kindTime:
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, fmt.Sprintf("must be an RFC 3339 time such as %q", exampleTime)
		}
		return t, ""
	}
	if p.valid != nil && !p.valid(v) {
		return nil, "must be " + p.mustBe
	}
	return v, ""
}

// exampleValue is a value the parameter takes, typed as in its schema,
// or nil for a text parameter without an example.
func (p param) exampleValue() any {
	v := p.example
	if v == "" {
		switch p.kind {
		case kindEnum:
			v = p.def
			if v == "" {
				v = p.enum[0]
			}
		case kindInt:
			v = p.def
			if v == "" {
				v = strconv.Itoa(p.min)
			}
		case kindTime:
			v = exampleTime
		default:
			return nil
		}
	}
	value, detail := p.parse(v)
	if detail != "" {
		panic(fmt.Sprintf("query parameter %s: example %q %s", p.name, v, detail))
	}
	if t, ok := value.(time.Time); ok {
		return t.Format(time.RFC3339Nano)
	}
	return value
}

// schema is the parameter's JSON schema in the OpenAPI document.
func (p param) schema() map[string]any {
	s := map[string]any{"type": "string"}
	switch p.kind {
	case kindEnum:
		s["enum"] = p.enum
	case kindInt:
		s["type"], s["minimum"], s["maximum"] = "integer", p.min, p.max
	case kindTime:
		s["format"] = "date-time"
	}
	if p.def != "" {
		def, detail := p.parse(p.def)
		if detail != "" {
			panic(fmt.Sprintf("query parameter %s: default %q %s", p.name, p.def, detail))
		}
		s["default"] = def
	}
	return s
}

// description is the parameter's description in the OpenAPI document.
func (p param) description() string {
	if p.valid != nil {
		return p.desc + " Must be " + p.mustBe + "."
	}
	return p.desc
}

// orList joins values as "a, b or c".
func orList(values []string) string {
	if len(values) < 2 {
		return strings.Join(values, "")
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}

const ctxQuery = "ordergate.query"

// queryValues is a request's query as checkQuery let it through: each
// declared parameter that was given (or has a default), parsed.
type queryValues struct {
	route    string
	declared map[string]param
	values   map[string]any
}

// queryOf returns the checked query of the request.
func queryOf(c *gin.Context) queryValues { return c.MustGet(ctxQuery).(queryValues) }

// value returns the parsed value of a declared parameter, or nil when it
// is not given. Reading a parameter the route does not declare, or as
// another kind, is a bug of the handler: it panics, so that a handler
// cannot take a parameter the route table (and the document) lacks.
func (q queryValues) value(name string, kinds ...paramKind) any {
	p, ok := q.declared[name]
	if !ok {
		panic(fmt.Sprintf("%s reads query parameter %q, which its route does not declare", q.route, name))
	}
	for _, k := range kinds {
		if p.kind == k {
			return q.values[name]
		}
	}
	panic(fmt.Sprintf("%s reads query parameter %q as another kind than it is declared", q.route, name))
}

// str returns a text or enum parameter, "" when not given.
func (q queryValues) str(name string) string {
	s, _ := q.value(name, kindText, kindEnum).(string)
	return s
}

// int returns an integer parameter, 0 when not given (and without default).
func (q queryValues) int(name string) int {
	n, _ := q.value(name, kindInt).(int)
	return n
}

// time returns a time parameter, the zero time when not given.
func (q queryValues) time(name string) time.Time {
	t, _ := q.value(name, kindTime).(time.Time)
	return t
}

// givenParam is a parameter as the query string gives it.
type givenParam struct {
	name   string
	values []string
}

// splitQuery splits a raw query string into its parameters in the order
// they first appear. It is url.ParseQuery, except that it names each
// parameter it cannot decode instead of dropping it.
func splitQuery(raw string) (given []givenParam, bad []sdk.FieldError) {
	index := map[string]int{}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			bad = append(bad, sdk.FieldError{Field: rawName, Detail: "is not a well-formed parameter name: " + err.Error()})
			continue
		}
		if strings.Contains(part, ";") {
			// net/url drops such a parameter: ';' is no separator.
			bad = append(bad, sdk.FieldError{Field: name, Detail: "has a ';': parameters are separated by '&', and a ';' in a value is written %3B"})
			continue
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			bad = append(bad, sdk.FieldError{Field: name, Detail: "has a value that is not well-formed: " + err.Error()})
			continue
		}
		i, seen := index[name]
		if !seen {
			i = len(given)
			index[name] = i
			given = append(given, givenParam{name: name})
		}
		given[i].values = append(given[i].values, value)
	}
	return given, bad
}

// checkQuery returns the middleware that checks a request's query against
// the route's declared parameters before the handler runs: a parameter
// the route does not declare, one given more than once, or a value its
// declaration refuses is a 422 naming each parameter at fault; a query
// string that cannot be decoded is a 400. What it lets through, the
// handler reads with queryOf.
func (s *Server) checkQuery(rt route) gin.HandlerFunc {
	where := rt.method + " " + rt.path
	declared := make(map[string]param, len(rt.query))
	names := make([]string, len(rt.query))
	defaults := map[string]any{}
	for i, p := range rt.query {
		if _, dup := declared[p.name]; dup {
			panic(fmt.Sprintf("%s declares query parameter %s twice", where, p.name))
		}
		if (p.kind == kindEnum && len(p.enum) == 0) || (p.kind == kindInt && p.min > p.max) {
			panic(fmt.Sprintf("%s: query parameter %s takes no value", where, p.name))
		}
		declared[p.name], names[i] = p, p.name
		if p.def != "" {
			v, detail := p.parse(p.def)
			if detail != "" {
				panic(fmt.Sprintf("%s: query parameter %s: default %q %s", where, p.name, p.def, detail))
			}
			defaults[p.name] = v
		}
	}
	takes := "it takes no query parameters"
	if len(names) > 0 {
		takes = "it takes " + strings.Join(names, ", ")
	}
	// Most requests have no query: they share one value.
	none := queryValues{route: where, declared: declared, values: defaults}
	return func(c *gin.Context) {
		if c.Request.URL.RawQuery == "" {
			c.Set(ctxQuery, none)
			c.Next()
			return
		}
		given, bad := splitQuery(c.Request.URL.RawQuery)
		if len(bad) > 0 {
			s.abort(c, malformed("the query string cannot be decoded", bad))
			return
		}
		values := make(map[string]any, len(given)+len(defaults))
		for _, g := range given {
			p, ok := declared[g.name]
			switch {
			case !ok:
				bad = append(bad, sdk.FieldError{Field: g.name, Detail: fmt.Sprintf("is not a parameter of %s; %s", where, takes)})
			case len(g.values) > 1:
				bad = append(bad, sdk.FieldError{Field: g.name, Detail: fmt.Sprintf("is given %d times; it takes one value", len(g.values))})
			case g.values[0] == "":
				// Not given.
			default:
				v, detail := p.parse(g.values[0])
				if detail != "" {
					bad = append(bad, sdk.FieldError{Field: g.name, Detail: detail})
					continue
				}
				values[g.name] = v
			}
		}
		if len(bad) > 0 {
			s.abort(c, host.InvalidFields("invalid query parameters", bad))
			return
		}
		for name, v := range defaults {
			if _, ok := values[name]; !ok {
				values[name] = v
			}
		}
		c.Set(ctxQuery, queryValues{route: where, declared: declared, values: values})
		c.Next()
	}
}
