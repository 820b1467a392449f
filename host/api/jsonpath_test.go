package api

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestJSONPathAt(t *testing.T) {
	type item struct {
		SKU     string `json:"sku"`
		Managed bool   `json:"managed"`
		Tags    []int  `json:"tags"`
	}
	type doc struct {
		Items []item `json:"items"`
		Meta  struct {
			N int `json:"n"`
		} `json:"meta"`
	}
	for _, tc := range []struct{ body, want string }{
		{`{"items": [{"sku": "A1"}, {"sku": "B2", "managed": "yes"}]}`, "items[1].managed"},
		{`{"items": [{"sku": 5}]}`, "items[0].sku"},
		{`{"items": [{"sku": "A", "tags": [1, 2, "x"]}]}`, "items[0].tags[2]"},
		{`{"meta": {"n": "many"}, "items": []}`, "meta.n"},
		{`{"items": {"sku": "A"}}`, "items"},
		{`{"items": [{}, {}, {"tags": {"a": 1}}]}`, "items[2].tags"},
	} {
		var d doc
		err := json.Unmarshal([]byte(tc.body), &d)
		var typ *json.UnmarshalTypeError
		if !errors.As(err, &typ) {
			t.Fatalf("%s: want a type error, got %v", tc.body, err)
		}
		if got := jsonPathAt([]byte(tc.body), typ.Offset); got != tc.want {
			t.Errorf("%s: path %q, want %q", tc.body, got, tc.want)
		}
	}
}
