package shopifytest

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// fieldDef is a field of the fake's schema: the object type it returns
// ("" for scalars and enums) and, when Shopify deprecated it, what to use
// instead.
type fieldDef struct {
	typ        string
	deprecated string
}

func obj(typ string) fieldDef { return fieldDef{typ: typ} }

var scalar = fieldDef{}

// schema is the part of the GraphQL Admin API (2026-10) the connector
// reads, with the deprecated fields it must not select. A type whose name
// ends in "Connection" is a paginated connection and needs first:.
var schema = map[string]map[string]fieldDef{
	"QueryRoot": {
		"orders": obj("OrderConnection"), "order": obj("Order"),
		"shop": obj("Shop"), "currentAppInstallation": obj("AppInstallation"),
	},
	"OrderConnection": {"edges": obj("OrderEdge"), "nodes": obj("Order"), "pageInfo": obj("PageInfo")},
	"OrderEdge":       {"cursor": scalar, "node": obj("Order")},
	"PageInfo":        {"hasNextPage": scalar, "hasPreviousPage": scalar, "startCursor": scalar, "endCursor": scalar},
	"Order": {
		"id": scalar, "name": scalar, "createdAt": scalar, "processedAt": scalar, "updatedAt": scalar,
		"cancelledAt": scalar, "cancelReason": scalar, "closedAt": scalar, "currencyCode": scalar,
		"email": scalar, "phone": scalar, "note": scalar, "tags": scalar, "test": scalar,
		"displayFinancialStatus": scalar, "displayFulfillmentStatus": scalar,
		"customer": obj("Customer"), "shippingAddress": obj("MailingAddress"), "billingAddress": obj("MailingAddress"),
		"shippingLine": obj("ShippingLine"), "customAttributes": obj("Attribute"),
		"subtotalPriceSet": obj("MoneyBag"), "totalShippingPriceSet": obj("MoneyBag"),
		"totalTaxSet": obj("MoneyBag"), "totalPriceSet": obj("MoneyBag"),
		"lineItems": obj("LineItemConnection"),
	},
	"Customer": {
		"id": scalar, "firstName": scalar, "lastName": scalar, "displayName": scalar,
		"email":               {deprecated: "Use `defaultEmailAddress.emailAddress` instead."},
		"phone":               {deprecated: "Use `defaultPhoneNumber.phoneNumber` instead."},
		"defaultEmailAddress": obj("CustomerEmailAddress"), "defaultPhoneNumber": obj("CustomerPhoneNumber"),
	},
	"CustomerEmailAddress": {"emailAddress": scalar, "marketingState": scalar},
	"CustomerPhoneNumber":  {"phoneNumber": scalar, "marketingState": scalar},
	"MailingAddress": {
		"name": scalar, "firstName": scalar, "lastName": scalar, "company": scalar, "address1": scalar, "address2": scalar,
		"city": scalar, "province": scalar, "provinceCode": scalar, "zip": scalar, "country": scalar, "countryCodeV2": scalar, "phone": scalar,
	},
	"ShippingLine":       {"title": scalar, "code": scalar},
	"Attribute":          {"key": scalar, "value": scalar},
	"MoneyBag":           {"shopMoney": obj("MoneyV2"), "presentmentMoney": obj("MoneyV2")},
	"MoneyV2":            {"amount": scalar, "currencyCode": scalar},
	"LineItemConnection": {"edges": obj("LineItemEdge"), "nodes": obj("LineItem"), "pageInfo": obj("PageInfo")},
	"LineItemEdge":       {"cursor": scalar, "node": obj("LineItem")},
	"LineItem":           {"id": scalar, "sku": scalar, "title": scalar, "name": scalar, "quantity": scalar, "originalUnitPriceSet": obj("MoneyBag")},
	"Shop":               {"name": scalar, "myshopifyDomain": scalar, "plan": obj("ShopPlan")},
	"ShopPlan": {
		"publicDisplayName": scalar, "partnerDevelopment": scalar, "shopifyPlus": scalar,
		"displayName": {deprecated: "Use `publicDisplayName` instead."},
	},
	"AppInstallation": {"accessScopes": obj("AccessScope")},
	"AccessScope":     {"handle": scalar, "description": scalar},
}

// deprecated fields are scalars in the schema above; they keep no type.
func (d fieldDef) isObject() bool { return d.typ != "" }

// selection is a field of a query: its name, resolved arguments and
// sub-selection.
type selection struct {
	name      string
	args      map[string]any
	sub       []*selection
	line, col int
}

// child returns the sub-selection named name, or nil.
func (s *selection) child(name string) *selection {
	for _, c := range s.sub {
		if c.name == name {
			return c
		}
	}
	return nil
}

// gqlError is an entry of a response's "errors", as Shopify writes them.
type gqlError struct {
	Message    string         `json:"message"`
	Locations  []any          `json:"locations,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// parseQuery reads the operation of a GraphQL document (the subset the
// connector writes: one query, fields with arguments and selection sets)
// with its variables resolved, and returns the root selection.
func parseQuery(doc string, vars map[string]any) (*selection, error) {
	p := &parser{vars: vars}
	if err := p.lex(doc); err != nil {
		return nil, err
	}
	root := &selection{name: "query"}
	if p.peek("query") {
		p.i++
		if p.peekKind('n') {
			root.name = p.next().text
		}
		if p.peek("(") {
			if err := p.skipBalanced("(", ")"); err != nil {
				return nil, err
			}
		}
	}
	sub, err := p.selectionSet()
	if err != nil {
		return nil, err
	}
	if p.i != len(p.toks) {
		return nil, p.errorf("unexpected %q after the operation", p.toks[p.i].text)
	}
	root.sub = sub
	return root, nil
}

type token struct {
	kind      byte // 'n' name, 'i' integer, 's' string, 'p' punctuator
	text      string
	line, col int
}

type parser struct {
	toks []token
	i    int
	vars map[string]any
}

func (p *parser) lex(doc string) error {
	line, col := 1, 1
	rs := []rune(doc)
	for i := 0; i < len(rs); {
		r := rs[i]
		start := token{line: line, col: col}
		adv := func(n int) {
			for range n {
				if rs[i] == '\n' {
					line, col = line+1, 1
				} else {
					col++
				}
				i++
			}
		}
		switch {
		case r == ',' || unicode.IsSpace(r):
			adv(1)
		case r == '#':
			for i < len(rs) && rs[i] != '\n' {
				adv(1)
			}
		case strings.ContainsRune("{}()[]:!=$@", r):
			start.kind, start.text = 'p', string(r)
			p.toks = append(p.toks, start)
			adv(1)
		case r == '_' || unicode.IsLetter(r):
			j := i
			for j < len(rs) && (rs[j] == '_' || unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j])) {
				j++
			}
			start.kind, start.text = 'n', string(rs[i:j])
			p.toks = append(p.toks, start)
			adv(j - i)
		case r == '-' || unicode.IsDigit(r):
			j := i + 1
			for j < len(rs) && unicode.IsDigit(rs[j]) {
				j++
			}
			start.kind, start.text = 'i', string(rs[i:j])
			p.toks = append(p.toks, start)
			adv(j - i)
		case r == '"':
			j := i + 1
			for j < len(rs) && rs[j] != '"' {
				if rs[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(rs) {
				return fmt.Errorf("unterminated string at line %d, column %d", line, col)
			}
			s, err := strconv.Unquote(string(rs[i : j+1]))
			if err != nil {
				return fmt.Errorf("bad string at line %d, column %d: %v", line, col, err)
			}
			start.kind, start.text = 's', s
			p.toks = append(p.toks, start)
			adv(j + 1 - i)
		default:
			return fmt.Errorf("unexpected character %q at line %d, column %d", r, line, col)
		}
	}
	return nil
}

func (p *parser) errorf(format string, args ...any) error {
	if p.i < len(p.toks) {
		t := p.toks[p.i]
		return fmt.Errorf("line %d, column %d: %s", t.line, t.col, fmt.Sprintf(format, args...))
	}
	return fmt.Errorf("at the end of the document: %s", fmt.Sprintf(format, args...))
}

func (p *parser) peek(text string) bool {
	return p.i < len(p.toks) && p.toks[p.i].text == text && (p.toks[p.i].kind == 'p' || p.toks[p.i].kind == 'n')
}

func (p *parser) peekKind(k byte) bool { return p.i < len(p.toks) && p.toks[p.i].kind == k }

func (p *parser) next() token { t := p.toks[p.i]; p.i++; return t }

func (p *parser) expect(text string) error {
	if !p.peek(text) {
		return p.errorf("expected %q", text)
	}
	p.i++
	return nil
}

func (p *parser) skipBalanced(open, close string) error {
	depth := 0
	for p.i < len(p.toks) {
		t := p.next()
		if t.kind == 'p' && t.text == open {
			depth++
		}
		if t.kind == 'p' && t.text == close {
			depth--
			if depth == 0 {
				return nil
			}
		}
	}
	return p.errorf("unbalanced %q", open)
}

func (p *parser) selectionSet() ([]*selection, error) {
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	var out []*selection
	for !p.peek("}") {
		if !p.peekKind('n') {
			return nil, p.errorf("expected a field name")
		}
		t := p.next()
		s := &selection{name: t.text, line: t.line, col: t.col}
		if p.peek(":") { // an alias: the field's name follows
			return nil, p.errorf("the fake does not take aliases")
		}
		if p.peek("(") {
			args, err := p.arguments()
			if err != nil {
				return nil, err
			}
			s.args = args
		}
		if p.peek("{") {
			sub, err := p.selectionSet()
			if err != nil {
				return nil, err
			}
			s.sub = sub
		}
		out = append(out, s)
	}
	p.i++
	return out, nil
}

func (p *parser) arguments() (map[string]any, error) {
	p.i++ // (
	args := map[string]any{}
	for !p.peek(")") {
		if !p.peekKind('n') {
			return nil, p.errorf("expected an argument name")
		}
		name := p.next().text
		if err := p.expect(":"); err != nil {
			return nil, err
		}
		if p.i >= len(p.toks) {
			return nil, p.errorf("expected a value")
		}
		t := p.next()
		switch {
		case t.kind == 'p' && t.text == "$":
			if !p.peekKind('n') {
				return nil, p.errorf("expected a variable name")
			}
			args[name] = p.vars[p.next().text]
		case t.kind == 'i':
			n, err := strconv.Atoi(t.text)
			if err != nil {
				return nil, p.errorf("bad integer %q", t.text)
			}
			args[name] = float64(n) // as JSON variables decode
		case t.kind == 's' || t.kind == 'n':
			args[name] = t.text
		default:
			return nil, p.errorf("the fake does not take %q as a value", t.text)
		}
	}
	p.i++
	return args, nil
}

// validate checks sels against the schema from type typ, as Shopify
// would, except that the fake refuses deprecated fields outright (Shopify
// answers them, with an X-Shopify-API-Deprecated-Reason header) so that a
// connector selecting one fails its tests.
func validate(typ string, sels []*selection) []gqlError {
	var errs []gqlError
	for _, s := range sels {
		loc := []any{map[string]any{"line": s.line, "column": s.col}}
		def, ok := schema[typ][s.name]
		switch {
		case !ok:
			errs = append(errs, gqlError{Message: fmt.Sprintf("Field '%s' doesn't exist on type '%s'", s.name, typ), Locations: loc,
				Extensions: map[string]any{"code": "undefinedField", "typeName": typ, "fieldName": s.name}})
			continue
		case def.deprecated != "":
			errs = append(errs, gqlError{Message: fmt.Sprintf("Field '%s' on type '%s' is deprecated: %s (this fake refuses deprecated fields)", s.name, typ, def.deprecated), Locations: loc,
				Extensions: map[string]any{"code": "deprecatedField", "typeName": typ, "fieldName": s.name}})
			continue
		case def.isObject() && s.sub == nil:
			errs = append(errs, gqlError{Message: fmt.Sprintf("Field must have selections (field '%s' returns %s but has no selections.)", s.name, def.typ), Locations: loc,
				Extensions: map[string]any{"code": "selectionMismatch", "nodeName": "field '" + s.name + "'", "typeName": def.typ}})
			continue
		case !def.isObject() && s.sub != nil:
			errs = append(errs, gqlError{Message: fmt.Sprintf("Selections can't be made on scalars (field '%s')", s.name), Locations: loc,
				Extensions: map[string]any{"code": "selectionMismatch", "nodeName": "field '" + s.name + "'"}})
			continue
		}
		if !def.isObject() {
			continue
		}
		if isConnection(def.typ) {
			if n, ok := s.args["first"].(float64); !ok || n < 1 || n > 250 {
				errs = append(errs, gqlError{Message: fmt.Sprintf("you must provide a `first` or `last` value from 1 to 250 to properly paginate the `%s` connection.", s.name), Locations: loc,
					Extensions: map[string]any{"code": "argumentLiteralsIncompatible"}})
			}
		}
		errs = append(errs, validate(def.typ, s.sub)...)
	}
	return errs
}

func isConnection(typ string) bool { return strings.HasSuffix(typ, "Connection") }

// requestedCost is a query's cost before it runs, by Shopify's documented
// rules: a scalar or enum field costs 0, an object 1 plus its fields, a
// connection 2 plus first: times the cost of one node (its edges and
// pageInfo cost nothing more). The fake charges a list of objects like
// one object.
func requestedCost(typ string, sels []*selection) float64 {
	var cost float64
	for _, s := range sels {
		def := schema[typ][s.name]
		if !def.isObject() {
			continue
		}
		if isConnection(def.typ) {
			first, _ := s.args["first"].(float64)
			cost += 2 + first*nodeCost(def.typ, s.sub, nil, false)
			continue
		}
		cost += 1 + requestedCost(def.typ, s.sub)
	}
	return cost
}

// nodeCost is the cost of one node of a connection selection: requested
// (data nil, requested true) or, for actualCost, summed over the nodes
// the data holds.
func nodeCost(connType string, sels []*selection, data map[string]any, actual bool) float64 {
	var cost float64
	for _, s := range sels {
		edgeDef := schema[connType][s.name]
		switch s.name {
		case "edges":
			nodeSel := s.child("node")
			if nodeSel == nil {
				continue
			}
			nodeType := schema[edgeDef.typ]["node"].typ
			if !actual {
				cost += 1 + requestedCost(nodeType, nodeSel.sub)
				continue
			}
			edges, _ := data["edges"].([]any)
			for _, e := range edges {
				if em, ok := e.(map[string]any); ok && em["node"] != nil {
					cost += 1 + actualCost(nodeType, nodeSel.sub, em["node"])
				}
			}
		case "nodes":
			if !actual {
				cost += 1 + requestedCost(edgeDef.typ, s.sub)
				continue
			}
			nodes, _ := data["nodes"].([]any)
			for _, n := range nodes {
				if n != nil {
					cost += 1 + actualCost(edgeDef.typ, s.sub, n)
				}
			}
		}
	}
	return cost
}

// actualCost is a query's cost by the same rules over what it returned
// (data, after projection): a null object costs nothing and a connection
// 2 plus its nodes.
func actualCost(typ string, sels []*selection, data any) float64 {
	m, ok := data.(map[string]any)
	if !ok {
		if list, ok := data.([]any); ok && len(list) > 0 {
			return actualCost(typ, sels, list[0]) // a list of objects counts as one
		}
		return 0
	}
	var cost float64
	for _, s := range sels {
		def := schema[typ][s.name]
		if !def.isObject() || m[s.name] == nil {
			continue
		}
		if isConnection(def.typ) {
			conn, _ := m[s.name].(map[string]any)
			cost += 2 + nodeCost(def.typ, s.sub, conn, true)
			continue
		}
		cost += 1 + actualCost(def.typ, s.sub, m[s.name])
	}
	return cost
}

// project keeps of data what sels select, as a GraphQL server answers
// only the fields asked for; a field the data lacks is null.
func project(typ string, sels []*selection, data any) any {
	switch v := data.(type) {
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = project(typ, sels, e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(sels))
		for _, s := range sels {
			def := schema[typ][s.name]
			val, ok := v[s.name]
			switch {
			case !ok || val == nil:
				out[s.name] = nil
			case def.isObject():
				out[s.name] = project(def.typ, s.sub, val)
			default:
				out[s.name] = val
			}
		}
		return out
	default:
		return data
	}
}

// QueryCost is the requested cost of query with vars by Shopify's
// documented rules, as the fake computes it; tests compare a connector's
// own estimate with it.
func QueryCost(query string, vars map[string]any) (float64, error) {
	root, err := parseQuery(query, vars)
	if err != nil {
		return 0, err
	}
	if errs := validate("QueryRoot", root.sub); len(errs) > 0 {
		return 0, fmt.Errorf("%s", errs[0].Message)
	}
	return requestedCost("QueryRoot", root.sub), nil
}
