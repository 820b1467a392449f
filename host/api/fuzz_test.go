package api

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	gojson "github.com/goccy/go-json"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// FuzzDecodeOrder feeds arbitrary bytes to what POST /api/v1/orders does
// with a body: strict decoding, then validation. Neither may panic; every
// refusal is a malformed- or invalid-input error naming at least one
// field (the problem+json the client gets); and an order accepted once is
// accepted again after a JSON round trip, encoding the same, and go-json
// encodes it as encoding/json does.
func FuzzDecodeOrder(f *testing.F) {
	for _, file := range []string{"testdata/order-1203.json", "testdata/bench/order-3line.json"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	for _, s := range []string{`{}`, `[]`, `null`, `{"line_items":[{"quantity":1.5}]}`, `{"line_items":[{"quantity":-1,"unit_price":"1e3"}]}`,
		`{"currency":"usd","totals":{"total":"-0.001"}}`, `{"shipping_address":{"country":"XX"}}`, "{\"note\":\"\xff\xfe\"}",
		`{"extra":1}`, `{"line_items":[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]}`, `{"number":"1"} {"number":"2"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var o sdk.Order
		err := decodeStrict(data, &o, "")
		if err == nil {
			if verr := o.Validate(); verr != nil {
				var ve sdk.ValidationError
				if !errors.As(verr, &ve) || len(ve) == 0 {
					t.Fatalf("validation error without fields: %v", verr)
				}
				return
			}
			again, merr := json.Marshal(&o)
			if merr != nil {
				t.Fatalf("an accepted order does not encode: %v", merr)
			}
			// Responses and stored records are written with go-json, which
			// must write what encoding/json writes.
			if fast, err := gojson.Marshal(&o); err != nil || string(fast) != string(again) {
				t.Fatalf("go-json wrote\n%s (%v)\nencoding/json wrote\n%s", fast, err, again)
			}
			var o2 sdk.Order
			if err := decodeStrict(again, &o2, ""); err != nil {
				t.Fatalf("an accepted order is refused after a round trip: %v\n%s", err, again)
			}
			if err := o2.Validate(); err != nil {
				t.Fatalf("an accepted order is invalid after a round trip: %v\n%s", err, again)
			}
			if third, _ := json.Marshal(&o2); string(third) != string(again) {
				t.Fatalf("round trip changed the order:\n%s\n%s", again, third)
			}
			return
		}
		var he *host.Error
		if !errors.As(err, &he) || (he.Code != host.EMALFORMED && he.Code != host.EINVALID) || len(he.Fields) == 0 {
			t.Fatalf("refusal %#v is not a malformed or invalid input error naming a field", err)
		}
	})
}
