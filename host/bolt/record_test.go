package bolt

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// TestRecordDictFrozen: records written with the dictionary can only be
// read with the same bytes. Change it only with a new format tag.
func TestRecordDictFrozen(t *testing.T) {
	sum := sha256.Sum256(recordDictSource)
	if got, want := hex.EncodeToString(sum[:]), "11da826a27364b9b7b41324eaa0c768adf3fb0a22a8fd89aaea1d3f6ecc8bf6b"; got != want {
		t.Fatalf("recorddict.json changed (sha256 %s, was %s): stored records would no longer decode; add a new format tag instead", got, want)
	}
	if recordDict == nil {
		t.Fatal("recorddict.json is not a valid S2 dictionary")
	}
}

// codecRecords are records with every field the model has, in the shapes
// the workflow and operators leave them.
func codecRecords() []*host.Record {
	at := time.Date(2026, 11, 28, 9, 30, 0, 123456789, time.UTC)
	later := at.Add(time.Hour)
	billing := sdk.Address{Name: "Zoë \"Q\" O'Brien", Address1: "1 <Main> & Co", City: "Köln", Country: "DE"}
	full := &host.Record{
		Order: sdk.Order{
			ID: "01JDRK0000000000000000000A", ChannelID: "shopify", ExternalID: "gid://shopify/Order/5531203", Number: "#1203",
			PlacedAt: at, Currency: "EUR",
			Customer:        sdk.Customer{Name: "Zoë", Email: "zoe@example.com", Phone: "+49 221 555"},
			ShippingAddress: billing, BillingAddress: &billing, ShippingMethod: "Express ✈",
			LineItems: []sdk.LineItem{{SKU: "V789", Title: "Valve \u2028 line", Quantity: 5, UnitPrice: "19.99"}, {Title: "no sku", Quantity: 1, UnitPrice: "0.00"}},
			Totals:    sdk.Totals{Subtotal: "99.95", Shipping: "5.00", Tax: "0", Total: "104.95"},
			Note:      "tab\there, newline\nthere", Tags: []string{"web", "Ümlaut"},
			CustomFields: map[string]string{"b": "2", "a": "1", "<html>": "&amp;"},
			Status:       sdk.StatusCanceled,
			Holds:        []sdk.Hold{{Reason: sdk.HoldCustomRule, Rule: "r", Message: "m", Package: "review"}},
			Cancellation: &sdk.Cancellation{Rule: "c", Message: "why", Package: "p", By: "workflow", At: later},
			Alerts:       []sdk.Alert{{To: "sales", Severity: "info", Message: "large", Rule: "large_order", Package: "sales"}},
			Workflow:     &sdk.WorkflowRun{Revision: "3f9c2a7d51e0b8c4", EvaluatedAt: at},
			ImportedAt:   &at, UpdatedAt: &later,
			Events: []sdk.Event{
				{At: at, Type: sdk.EventImported, Actor: "channel:shopify"},
				{At: at, Type: sdk.EventDecision, Actor: "workflow", Decision: &sdk.Decision{
					Revision: "3f9c2a7d51e0b8c4", EvaluatedAt: at, Status: sdk.StatusCanceled,
					Tags:    []sdk.TagDecision{{Tag: "Review Needed", Package: "review"}},
					Holds:   []sdk.Hold{{Reason: sdk.HoldCustomRule, Rule: "r", Message: "m", Package: "review"}},
					Cancels: []sdk.Cancellation{{Message: "fraud", By: "workflow", At: later}},
					Notes:   []sdk.NoteDecision{{Note: "n", Package: "sales"}},
					Fields:  []sdk.FieldEdit{{Path: "shipping_method", Value: "Ground", Package: "ship"}},
					Alerts:  []sdk.Alert{{To: "sales", Message: "large"}},
					Error:   "",
				}},
				{At: later, Type: sdk.EventEdited, Actor: "key:ops", Message: "fixed", Edit: &sdk.Edit{AddTags: []string{"x"}, RemoveTags: []string{"web"}, Fields: map[string]string{"shipping_method": "Ground"}}},
				{At: later, Type: sdk.EventReleased, Actor: "key:ops", Holds: []sdk.Hold{{Reason: sdk.HoldCustomRule}}},
			},
		},
		Released: []string{"custom_rule/review/r"},
		Manual:   &sdk.Edit{AddTags: []string{"x"}, Fields: map[string]string{"shipping_method": "Ground"}},
	}
	minimal := &host.Record{Order: sdk.Order{ID: "01JDRK0000000000000000000B", ExternalID: "1", PlacedAt: at, Currency: "USD",
		ShippingAddress: sdk.Address{Country: "US"}, LineItems: []sdk.LineItem{{Quantity: 1, UnitPrice: "1.00"}}, Totals: sdk.Totals{Total: "1.00"}}}
	long := *minimal
	long.ID = "01JDRK0000000000000000000C"
	for i := range 300 {
		long.LineItems = append(long.LineItems, sdk.LineItem{SKU: strings.Repeat("S", i%40), Title: strings.Repeat("t", i), Quantity: int64(i + 1), UnitPrice: "9.99"})
	}
	return []*host.Record{full, minimal, &long}
}

// TestRecordCodec: a stored record decodes to what was stored; the JSON
// inside is byte for byte what encoding/json writes; and records of files
// written before compression (plain JSON) still read.
func TestRecordCodec(t *testing.T) {
	for _, r := range codecRecords() {
		t.Run(r.ID, func(t *testing.T) {
			std, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			fast, err := gojson.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(std, fast) {
				t.Fatalf("go-json wrote other JSON than encoding/json:\n%s\n%s", fast, std)
			}
			var want host.Record
			if err := json.Unmarshal(std, &want); err != nil {
				t.Fatal(err)
			}
			stored, err := marshalRecord(r)
			if err != nil {
				t.Fatal(err)
			}
			if stored[0] != formatS2JSON || len(stored) >= len(std) {
				t.Errorf("stored %d bytes with tag %d for %d bytes of JSON", len(stored), stored[0], len(std))
			}
			for name, data := range map[string][]byte{"compressed": stored, "plain JSON": std} {
				got, err := unmarshalRecord(r.ID, data)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !reflect.DeepEqual(got, &want) {
					t.Errorf("%s: decoded\n%+v\nwant\n%+v", name, got, &want)
				}
			}
		})
	}
	for _, bad := range [][]byte{nil, {7, 1, 2}, {formatS2JSON, 0xff, 0xff}} {
		if _, err := unmarshalRecord("x", bad); err == nil {
			t.Errorf("%v decoded", bad)
		}
	}
}

// TestEncodeEvents: the events of a change, which share their order, and
// an event without an order each decode from the feed's encoding to the
// event as it was given.
func TestEncodeEvents(t *testing.T) {
	r := codecRecords()[0] // imported, edited and canceled
	events := host.OrderEvents(nil, r)
	ops := &host.Event{ID: "ops-1", Type: host.EventOpsPrefix + host.OpsChannelFailing, At: time.Unix(0, 0).UTC(),
		ChannelID: "shopify", Alert: &sdk.Alert{To: "ops", Message: "failing"}}
	events = append(events, ops)
	if len(events) < 3 || events[0].Order == nil || events[0].Order != events[1].Order {
		t.Fatalf("events %+v; want at least two sharing the order and one without", events)
	}
	encoded, err := encodeEvents(events)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range encoded {
		_, _, data, ok := decodeEventValue(v)
		if !ok {
			t.Fatalf("event %d: not a stored event", i)
		}
		got, err := decodeEvent(uint64(i), data)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(events[i])
		if gotJS, _ := json.Marshal(got); !bytes.Equal(gotJS, want) {
			t.Errorf("event %d decodes to\n%s\nwant\n%s", i, gotJS, want)
		}
	}
}
