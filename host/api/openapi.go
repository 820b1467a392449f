package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/invopop/jsonschema"

	"github.com/ordergate/ordergate/host"
)

// openAPIDocument generates the OpenAPI 3.1 document from the route table:
// paths, methods, security and query parameters (with the schemas
// checkQuery enforces) from the routes, and
// request and response schemas reflected from the Go types they decode
// and encode (JSON Schema 2020-12, which OpenAPI 3.1 uses as is).
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
		default:
			op["description"] = "Needs an admin key or a reseller key (limited to its own channel)."
			op["x-ordergate-role"] = host.RoleReseller
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]string{"type": "string"}})
		}
		for _, p := range rt.query {
			doc := map[string]any{"name": p.name, "in": "query", "description": p.description(), "schema": p.schema()}
			if ex := p.exampleValue(); ex != nil {
				doc["example"] = ex
			}
			params = append(params, doc)
		}
		if rt.method == "POST" && rt.path == "/api/v1/orders" {
			params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header", "description": "Replays of the same key and body return the first result; the same key with another body is a 409.", "schema": map[string]string{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if rt.request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": schemaOf(rt.request)}}}
		}
		responses := map[string]any{}
		for status, body := range rt.responses {
			resp := map[string]any{"description": http.StatusText(status)}
			if s := schemaOf(body); s != nil {
				resp["content"] = map[string]any{"application/json": map[string]any{"schema": s}}
			}
			responses[strconv.Itoa(status)] = resp
		}
		responses["default"] = map[string]any{"description": "An RFC 9457 problem naming each field at fault.",
			"content": map[string]any{"application/problem+json": map[string]any{"schema": problem}}}
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
			"description": "Order import host: B2B intake, the Rego import workflow, and the hold queue.",
		},
		"paths":      paths,
		"security":   []any{map[string]any{"bearer": []any{}}},
		"components": map[string]any{"schemas": components, "securitySchemes": map[string]any{"bearer": map[string]string{"type": "http", "scheme": "bearer"}}},
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
