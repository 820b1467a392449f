package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// TestWriteJSONMatchesEncodingJSON: responses are byte for byte what
// encoding/json would write (field order, escaping of HTML characters and
// U+2028, map key order, times, omitted empties), plus a newline.
func TestWriteJSONMatchesEncodingJSON(t *testing.T) {
	data, err := os.ReadFile("../../sdk/testdata/order-1203.json")
	if err != nil {
		t.Fatal(err)
	}
	var o sdk.Order
	if err := json.Unmarshal(data, &o); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 28, 9, 30, 0, 120000000, time.FixedZone("", -5*3600))
	o.ID, o.ImportedAt, o.Status = "01JDRK0000000000000000000A", &at, sdk.StatusOnHold
	o.Note = "<b>Leave</b> & go \u2028 \"quoted\" \t"
	o.CustomFields = map[string]string{"z": "1", "a": "é", "M": "<>"}
	o.Holds = []sdk.Hold{{Reason: sdk.HoldCustomRule, Rule: "hold_large_quantity", Message: "line V789 has quantity 5, over the review limit of 4"}}
	values := []any{
		OrderList{Orders: []*sdk.Order{&o, &o}, NextCursor: "01JDRK"},
		&Problem{Type: "urn:ordergate:problem:invalid", Title: "Unprocessable Content", Status: 422, Detail: "the order is not valid",
			Errors: []sdk.FieldError{{Field: "line_items[0].quantity", Detail: "must be at least 1"}}},
		map[string]any{"n": 1.5, "big": int64(1) << 60, "nil": nil, "list": []string{}},
		&host.Channel{ID: "shopify", Kind: "b2c", Config: sdk.Config{"token": "x", "n": 3}, CreatedAt: at},
	}
	gin.SetMode(gin.ReleaseMode)
	for i, v := range values {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		writeJSON(c, http.StatusOK, "application/json", v)
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := w.Body.String(); got != string(want)+"\n" {
			t.Errorf("value %d:\n got %s\nwant %s", i, got, want)
		}
	}
}
