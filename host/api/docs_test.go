package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// apiReference is the API reference, whose routes table must list the
// routes of the route table (routes.go), no more and no fewer.
const apiReference = "../../docs/api.md"

// The routes table of the API reference: the one table with this header,
// then one row per method and path, in this form:
//
//	| `PATCH` | `/api/v1/routing-groups/{id}` | admin | Change a routing group ... |
//
// The method is in capitals and the path in OpenAPI form, each in
// backticks; the role is one of roleWords; the purpose is not empty.
const routesHeader = "| Method | Path | Role | Purpose |"

var routeRow = regexp.MustCompile("^\\| `(GET|POST|PUT|PATCH|DELETE)` \\| `(/[^`]*)` \\| ([^|]+?) \\| (.*\\S.*) \\|$")

// roleWords is how the reference writes each x-ordergate-role of the
// OpenAPI document.
var roleWords = map[string]string{
	"public":   "public",
	"reseller": "admin or reseller",
	"admin":    "admin",
	"operator": "admin or operator",
	"metrics":  "admin or metrics",
}

// TestAPIReferenceListsEveryRoute compares the routes table of
// docs/api.md, as a set of method and path, with the paths of the served
// OpenAPI document (which the route table generates), and each route's
// role with the document's x-ordergate-role.
func TestAPIReferenceListsEveryRoute(t *testing.T) {
	documented, err := readRoutesTable(apiReference)
	if err != nil {
		t.Fatal(err)
	}

	h := newTestHost(t, shippedPolicies)
	var doc struct {
		Paths map[string]map[string]struct {
			Role string `json:"x-ordergate-role"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(h.expect(h.do("GET", "/openapi.json", h.admin, nil), http.StatusOK).body, &doc); err != nil {
		t.Fatal(err)
	}
	served := map[string]string{} // "METHOD /path" -> role
	for path, ops := range doc.Paths {
		for method, op := range ops {
			served[strings.ToUpper(method)+" "+path] = op.Role
		}
	}

	var missing, extra, roles []string
	for route, role := range served {
		d, ok := documented[route]
		switch {
		case !ok:
			missing = append(missing, route)
		case d.role != roleWords[role]:
			roles = append(roles, fmt.Sprintf("%s:%d: %s has role %q, want %q (x-ordergate-role %s)", apiReference, d.line, route, d.role, roleWords[role], role))
		}
	}
	for route, d := range documented {
		if _, ok := served[route]; !ok {
			extra = append(extra, fmt.Sprintf("%s (line %d)", route, d.line))
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	slices.Sort(roles)
	if len(missing) > 0 {
		t.Errorf("%s does not list these routes of the route table (host/api/routes.go); add a row for each:\n\t%s", apiReference, strings.Join(missing, "\n\t"))
	}
	if len(extra) > 0 {
		t.Errorf("%s lists routes the host does not serve:\n\t%s", apiReference, strings.Join(extra, "\n\t"))
	}
	if len(roles) > 0 {
		t.Errorf("routes whose role in the reference is not the route table's:\n\t%s", strings.Join(roles, "\n\t"))
	}
	if len(served) < 10 {
		t.Fatalf("the OpenAPI document has only %d operations", len(served))
	}
}

// documentedRoute is a row of the routes table.
type documentedRoute struct {
	role string
	line int
}

// readRoutesTable reads the routes table of the reference at path, keyed
// by "METHOD /path". A row that is not in the table's form, or a route
// listed twice, is an error, so that a typo does not hide a route.
func readRoutesTable(path string) (map[string]documentedRoute, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(data), "\n")
	start := -1
	for i, line := range lines {
		if strings.TrimSpace(line) == routesHeader {
			if start >= 0 {
				return nil, fmt.Errorf("%s:%d: a second routes table (%q); the reference has one", path, i+1, routesHeader)
			}
			start = i
		}
	}
	if start < 0 {
		return nil, fmt.Errorf("%s has no routes table: no line %q", path, routesHeader)
	}
	routes := map[string]documentedRoute{}
	// The header, its delimiter row, then rows up to the first line that
	// is not a table row.
	for i := start + 2; i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "|"); i++ {
		line := strings.TrimSpace(lines[i])
		m := routeRow.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("%s:%d: a row of the routes table must read | `METHOD` | `/path` | role | purpose |, with one method and one path: %s", path, i+1, line)
		}
		route, role := m[1]+" "+m[2], strings.TrimSpace(m[3])
		if !slices.Contains(roleValues(), role) {
			return nil, fmt.Errorf("%s:%d: role %q is not one of %s", path, i+1, role, strings.Join(roleValues(), ", "))
		}
		if d, ok := routes[route]; ok {
			return nil, fmt.Errorf("%s:%d: %s is listed twice (first on line %d)", path, i+1, route, d.line)
		}
		routes[route] = documentedRoute{role: role, line: i + 1}
	}
	if len(routes) == 0 {
		return nil, fmt.Errorf("%s:%d: the routes table has no rows", path, start+1)
	}
	return routes, nil
}

// roleValues are the words the role column may hold.
func roleValues() []string {
	var out []string
	for _, w := range roleWords {
		out = append(out, w)
	}
	slices.Sort(out)
	return out
}
