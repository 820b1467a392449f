package alerts

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// Standard Webhooks headers (https://www.standardwebhooks.com): the
// message id (the same on every retry), the Unix time of the attempt and
// the signature.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// SignStandard returns a Standard Webhooks signature: "v1," and the
// base64 HMAC-SHA256, with key, of "<id>.<timestamp>.<body>".
func SignStandard(key []byte, id string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// EventPayload is the JSON body of an event's webhook delivery, in the
// Standard Webhooks shape.
type EventPayload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      EventData `json:"data"`
}

// EventData is what an event carries: the order as it stood after the
// change and the timeline entry of the change, or an operational alert.
type EventData struct {
	ID    string     `json:"id"`
	Actor string     `json:"actor,omitempty"`
	Order *sdk.Order `json:"order,omitempty"`
	Entry *sdk.Event `json:"entry,omitempty"`
	Alert *sdk.Alert `json:"alert,omitempty"`
}

// webhook returns the body of a webhook delivery, the message id it is
// sent with and its headers at timestamp, signed as dest asks.
func webhook(dest *host.Destination, dl *host.Delivery, timestamp int64) ([]byte, map[string]string, error) {
	var body []byte
	var err error
	id := dl.ID
	if ev := dl.Event; ev != nil {
		id = ev.ID
		body, err = json.Marshal(EventPayload{Type: ev.Type, Timestamp: ev.At,
			Data: EventData{ID: ev.ID, Actor: ev.Actor, Order: ev.Order, Entry: ev.Entry, Alert: ev.Alert}})
	} else {
		p := Payload{ID: dl.ID, CreatedAt: dl.CreatedAt, Alert: dl.Alert}
		if dl.OrderID != "" {
			p.Order = &PayloadOrder{ID: dl.OrderID, Number: dl.OrderNumber, ChannelID: dl.ChannelID, Path: "/api/v1/orders/" + dl.OrderID}
		}
		body, err = json.Marshal(p)
	}
	if err != nil {
		return nil, nil, err
	}
	ts := strconv.FormatInt(timestamp, 10)
	if dest.SignsStandard(dl.Event != nil) {
		return body, map[string]string{HeaderWebhookID: id, HeaderWebhookTimestamp: ts,
			HeaderWebhookSignature: SignStandard(host.SigningKey(dest.Secret), id, timestamp, body)}, nil
	}
	return body, map[string]string{HeaderID: id, HeaderTimestamp: ts, HeaderSignature: Sign(dest.Secret, timestamp, body)}, nil
}
