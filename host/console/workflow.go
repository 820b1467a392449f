package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/sdk"
)

type workflowView struct {
	Status policy.Status
	// The dry-run form and its outcome.
	OrderID  string
	Order    string
	Channel  string
	Decision *sdk.Decision
	Fields   []string
}

func (c *Console) workflowPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.render(w, r, s, http.StatusOK, "workflow", "Workflow", workflowView{Status: c.cfg.Engine.Status(), OrderID: r.URL.Query().Get("order")})
}

// evaluate is the workflow page's dry run: of a stored order (its id),
// as a re-evaluation would decide it now, or of a pasted order (JSON, as
// posted to the API), as an import into the channel would. Nothing is
// stored.
func (c *Console) evaluate(w http.ResponseWriter, r *http.Request, s *session) {
	v := workflowView{Status: c.cfg.Engine.Status(), OrderID: strings.TrimSpace(r.PostForm.Get("order_id")),
		Order: r.PostForm.Get("order"), Channel: strings.TrimSpace(r.PostForm.Get("channel"))}
	status := http.StatusOK
	switch {
	case v.OrderID != "":
		d, err := c.cfg.Orders.EvaluateStored(r.Context(), v.OrderID)
		if err != nil {
			if host.ErrorCode(err) != host.ENOTFOUND {
				c.fail(w, r, s, err)
				return
			}
			status, v.Fields = http.StatusUnprocessableEntity, []string{"order_id: no order " + v.OrderID}
			break
		}
		v.Decision = d
	case strings.TrimSpace(v.Order) != "":
		var o sdk.Order
		dec := json.NewDecoder(bytes.NewReader([]byte(v.Order)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil {
			status, v.Fields = http.StatusUnprocessableEntity, []string{"order: is not an order in JSON: " + err.Error()}
			break
		}
		ch := &host.Channel{ID: v.Channel, Kind: host.ChannelB2B}
		if ch.ID == "" {
			ch.ID = "dry-run"
		}
		if stored, err := c.cfg.Store.Channel(r.Context(), ch.ID); err == nil {
			ch.Kind = stored.Kind
		}
		d, _, err := c.cfg.Orders.Evaluate(r.Context(), ch, &o)
		if err != nil {
			var he *host.Error
			if host.ErrorCode(err) != host.EINVALID || !errors.As(err, &he) {
				c.fail(w, r, s, err)
				return
			}
			status = http.StatusUnprocessableEntity
			for _, f := range he.Fields {
				v.Fields = append(v.Fields, "order."+f.Field+": "+f.Detail)
			}
			break
		}
		v.Decision = d
	default:
		status, v.Fields = http.StatusUnprocessableEntity, []string{"order_id: give an order id, or paste an order"}
	}
	c.render(w, r, s, status, "workflow", "Workflow", v)
}
