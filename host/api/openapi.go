package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/invopop/jsonschema"

	"github.com/ordergate/ordergate/host"
)

// problemResponse documents one problem+json status of the API, shared
// by the operations that can give it (components/responses).
type problemResponse struct {
	name, desc string
	headers    map[string]any
}

// problemResponses are the problem+json statuses a route can give, by the
// route's properties (problemStatuses).
var problemResponses = map[int]problemResponse{
	http.StatusBadRequest: {name: "BadRequest",
		desc: "The request cannot be read: a query string that cannot be decoded, or a body that is empty where one is needed, not UTF-8 or not well-formed JSON. errors names each part at fault."},
	http.StatusUnauthorized: {name: "Unauthorized", desc: "No API key, or a key that is unknown or revoked.",
		headers: map[string]any{"WWW-Authenticate": map[string]any{"description": `Bearer realm="ordergate"`, "schema": map[string]string{"type": "string"}}}},
	http.StatusForbidden: {name: "Forbidden",
		desc: "The key may not do this: a reseller key on an admin route, or naming a channel other than its own."},
	http.StatusNotFound: {name: "NotFound",
		desc: "Nothing exists at what the path names (for a reseller key, an order of another channel is not found either)."},
	http.StatusConflict: {name: "Conflict",
		desc: "The request conflicts with what is stored, e.g. it creates what exists or changes an order its status does not allow; detail says what."},
	http.StatusGone: {name: "Gone",
		desc: "What the request names was removed: a change-feed cursor older than the events the host keeps (--event-retention). Read the feed from its beginning and resynchronize with GET /api/v1/orders?updated_after=."},
	http.StatusRequestEntityTooLarge: {name: "ContentTooLarge", desc: "The body is larger than the route's limit."},
	http.StatusUnsupportedMediaType: {name: "UnsupportedMediaType",
		desc: "The body's Content-Type is not one the route takes; errors names the Content-Type."},
	http.StatusUnprocessableEntity: {name: "UnprocessableContent",
		desc: "The request is not valid: errors names every body field and query parameter at fault, all at once. That includes a query parameter the route does not take, one given more than once, and a value outside the parameter's schema."},
	http.StatusTooManyRequests: {name: "TooManyRequests", desc: "The reseller key is over its rate limit; the request was not counted.",
		headers: map[string]any{"Retry-After": map[string]any{"description": "Seconds until the key may send again.", "schema": map[string]string{"type": "integer"}}}},
	http.StatusServiceUnavailable: {name: "ServiceUnavailable",
		desc: "The host cannot do this now: it runs no connectors, or it is stopping."},
}

// problemStatuses lists the problem+json statuses a route can give,
// derived from its properties:
//   - 400 and 422 on every route: checkQuery refuses a query string it
//     cannot decode (400), and a parameter the route does not declare or a
//     value its declaration refuses (422);
//   - 401 on a route that needs a key, 403 on an admin route (a reseller
//     key), 429 on a route reseller keys may use (their rate limit; admin
//     keys have none);
//   - 404 on a route whose path names something;
//   - 400, 413 and 422 on a route with a body, and 415 on one that takes
//     more than JSON;
//
// and the route's own problems beyond these (a conflict, say).
func (rt route) problemStatuses() []int {
	statuses := []int{http.StatusBadRequest, http.StatusUnprocessableEntity}
	if rt.role != "" {
		statuses = append(statuses, http.StatusUnauthorized)
	}
	switch rt.role {
	case host.RoleAdmin, host.RoleOperator:
		statuses = append(statuses, http.StatusForbidden)
	case host.RoleReseller, host.RoleMetrics:
		// Keys of other roles are refused; keys but admin ones are rate limited.
		statuses = append(statuses, http.StatusForbidden, http.StatusTooManyRequests)
	}
	if pathParam.MatchString(rt.path) {
		statuses = append(statuses, http.StatusNotFound)
	}
	if rt.request != nil {
		statuses = append(statuses, http.StatusRequestEntityTooLarge)
	}
	if len(rt.consumes) > 0 {
		statuses = append(statuses, http.StatusUnsupportedMediaType)
	}
	statuses = append(statuses, rt.problems...)
	slices.Sort(statuses)
	return slices.Compact(statuses)
}

// openAPIDocument generates the OpenAPI 3.1 document from the route table:
// paths, methods, security, parameters (with the schemas checkQuery
// enforces) and problem responses from the routes, and request and
// response schemas reflected from the Go types they decode and encode
// (JSON Schema 2020-12, which OpenAPI 3.1 uses as is).
func openAPIDocument(table []route, version string) []byte {
	r := &jsonschema.Reflector{AllowAdditionalProperties: false, DoNotReference: false}
	components := map[string]any{}
	schemaOf := func(v any) any {
		if v == nil {
			return nil
		}
		s := r.Reflect(v)
		for name, def := range s.Definitions {
			components[name] = def
		}
		return map[string]string{"$ref": "#/components/schemas/" + reflect.TypeOf(v).Name()}
	}
	problem := schemaOf(Problem{})
	problemContent := map[string]any{"application/problem+json": map[string]any{"schema": problem}}
	responseComponents := map[string]any{}
	paths := map[string]map[string]any{}
	for _, rt := range table {
		op := map[string]any{
			"summary":     rt.summary,
			"operationId": operationID(rt),
		}
		switch rt.role {
		case "":
			op["security"] = []any{}
			op["x-ordergate-role"] = "public"
		case host.RoleAdmin:
			op["description"] = "Needs an admin key."
			op["x-ordergate-role"] = host.RoleAdmin
		case host.RoleOperator:
			op["description"] = "Needs an operator or admin key."
			op["x-ordergate-role"] = host.RoleOperator
		case host.RoleMetrics:
			op["description"] = "Needs an admin key or a metrics key (which may read nothing else)."
			op["x-ordergate-role"] = host.RoleMetrics
		default:
			op["description"] = "Needs an admin key or a reseller key (limited to its own channel)."
			op["x-ordergate-role"] = host.RoleReseller
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]string{"type": "string"}})
		}
		for _, in := range []struct {
			where  string
			params []param
		}{{"query", rt.query}, {"header", rt.header}} {
			for _, p := range in.params {
				doc := map[string]any{"name": p.name, "in": in.where, "description": p.description(), "schema": p.schema()}
				if ex := p.exampleValue(); ex != nil {
					doc["example"] = ex
				}
				params = append(params, doc)
			}
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.request != nil {
			content := map[string]any{}
			for _, mt := range append([]string{"application/json"}, rt.consumes...) {
				if mt == "application/json" {
					content[mt] = map[string]any{"schema": schemaOf(rt.request)}
				} else {
					content[mt] = map[string]any{"schema": map[string]string{"type": "string"}}
				}
			}
			op["requestBody"] = map[string]any{"required": !rt.optionalBody, "content": content}
		}
		responses := map[string]any{}
		for status, body := range rt.responses {
			resp := map[string]any{"description": http.StatusText(status)}
			if s := schemaOf(body); s != nil {
				resp["content"] = map[string]any{"application/json": map[string]any{"schema": s}}
			}
			responses[strconv.Itoa(status)] = resp
		}
		for _, status := range rt.problemStatuses() {
			if _, ok := rt.responses[status]; ok {
				continue
			}
			pr, ok := problemResponses[status]
			if !ok {
				panic(fmt.Sprintf("%s %s can give %d, which problemResponses does not document", rt.method, rt.path, status))
			}
			if responseComponents[pr.name] == nil {
				resp := map[string]any{"description": pr.desc, "content": problemContent}
				if pr.headers != nil {
					resp["headers"] = pr.headers
				}
				responseComponents[pr.name] = resp
			}
			responses[strconv.Itoa(status)] = map[string]string{"$ref": "#/components/responses/" + pr.name}
		}
		responses["default"] = map[string]any{"description": "An RFC 9457 problem naming each field at fault.", "content": problemContent}
		op["responses"] = responses
		if paths[rt.path] == nil {
			paths[rt.path] = map[string]any{}
		}
		paths[rt.path][strings.ToLower(rt.method)] = op
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "ordergate",
			"version":     version,
			"description": "Order import host: B2B intake, the Rego import workflow, and the hold queue. Errors are RFC 9457 problem documents (application/problem+json) whose errors name each body field or query parameter at fault.",
			// The repository states no license; Apache-2.0 is the one
			// chosen for it here (an open-source project with a patent
			// grant). Change it with the LICENSE file when one is added.
			"license": map[string]string{"name": "Apache License 2.0", "identifier": "Apache-2.0"},
			"contact": map[string]string{"name": "ordergate", "url": "https://github.com/ordergate/ordergate"},
		},
		// Relative: the host that serves this document serves the API.
		"servers":  []any{map[string]string{"url": "/", "description": "The host that serves this document."}},
		"paths":    paths,
		"security": []any{map[string]any{"bearer": []any{}}},
		"components": map[string]any{
			"schemas":   components,
			"responses": responseComponents,
			"securitySchemes": map[string]any{"bearer": map[string]string{"type": "http", "scheme": "bearer", "bearerFormat": host.KeyPrefix + " API key",
				"description": fmt.Sprintf("An API key, sent as \"Authorization: Bearer <key>\": %q followed by 40 base62 characters, so that secret scanners recognise a leaked one. "+
					"An admin key may use every route; a reseller key only the routes marked x-ordergate-role reseller, and only its own channel's orders; a metrics key only /metrics. "+
					"POST /api/v1/keys creates a key and shows its secret once (the host stores only its hash); a host that starts with no key creates an admin key and prints it.", host.KeyPrefix)}},
		},
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic("encoding the OpenAPI document: " + err.Error())
	}
	return []byte(strings.ReplaceAll(string(data), "#/$defs/", "#/components/schemas/"))
}

func operationID(rt route) string {
	p := strings.NewReplacer("/api/v1/", "", "{", "", "}", "", ":", "_", "/", "_", ".", "_").Replace(rt.path)
	return strings.ToLower(rt.method) + "_" + strings.Trim(p, "_")
}
