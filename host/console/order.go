package console

import (
	"net/http"
	"strings"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// orderView is the order page's data.
type orderView struct {
	*host.Record
	Decision *sdk.Decision
	Facts    *host.OrderContext
	// FactsError says why the facts could not be read (the page shows
	// the order all the same).
	FactsError string
	HeldAt     *string
	Reasons    map[string]bool
	Editable   []string
}

func (c *Console) orderPage(w http.ResponseWriter, r *http.Request, s *session) {
	rec, err := c.cfg.Store.Order(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	// The order as the API shows it: with the operators' edits (tags,
	// fields) applied.
	v := orderView{Record: &host.Record{Order: *rec.View(), Released: rec.Released, Manual: rec.Manual}, Decision: rec.LatestDecision(), Reasons: map[string]bool{}}
	for _, h := range rec.Holds {
		v.Reasons[h.Reason] = true
	}
	if rec.Status == sdk.StatusOnHold {
		facts, err := c.cfg.Orders.FactsNow(r.Context(), rec)
		if err != nil {
			c.log.Warn("reading an order's facts", "order", rec.ID, "error", err)
			v.FactsError = "The facts could not be read: " + host.ErrorCode(err)
		}
		v.Facts = facts
	}
	title := "Order " + rec.Number
	if rec.Number == "" {
		title = "Order " + rec.ID
	}
	c.render(w, r, s, http.StatusOK, "order", title, v)
}

// afterAction goes back to the order page once an action is done
// (303, so reloading the page does not post again).
func (c *Console) afterAction(w http.ResponseWriter, r *http.Request, s *session, err error) {
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/orders/"+r.PathValue("id"), http.StatusSeeOther)
}

func (c *Console) releaseOrder(w http.ResponseWriter, r *http.Request, s *session) {
	_, err := c.cfg.Orders.Release(r.Context(), r.PathValue("id"), strings.TrimSpace(r.PostForm.Get("note")))
	c.afterAction(w, r, s, err)
}

func (c *Console) cancelOrder(w http.ResponseWriter, r *http.Request, s *session) {
	reason := strings.TrimSpace(r.PostForm.Get("note"))
	if reason == "" {
		c.renderError(w, r, s, http.StatusUnprocessableEntity, "The order was not canceled.", "note: say why the order is canceled")
		return
	}
	_, err := c.cfg.Orders.Cancel(r.Context(), r.PathValue("id"), reason)
	c.afterAction(w, r, s, err)
}

func (c *Console) reevaluateOrder(w http.ResponseWriter, r *http.Request, s *session) {
	_, err := c.cfg.Orders.Reevaluate(r.Context(), r.PathValue("id"))
	c.afterAction(w, r, s, err)
}

// editOrder applies the edit form: tags to add and remove (comma
// separated) and fields to set (shipping method, note), with a note.
func (c *Console) editOrder(w http.ResponseWriter, r *http.Request, s *session) {
	e := &sdk.Edit{AddTags: splitTags(r.PostForm.Get("add_tags")), RemoveTags: splitTags(r.PostForm.Get("remove_tags"))}
	for _, field := range []string{"shipping_method", "note"} {
		if v, ok := r.PostForm[field]; ok && strings.TrimSpace(v[0]) != "" {
			if e.Fields == nil {
				e.Fields = map[string]string{}
			}
			e.Fields[field] = strings.TrimSpace(v[0])
		}
	}
	_, err := c.cfg.Orders.Edit(r.Context(), r.PathValue("id"), e, strings.TrimSpace(r.PostForm.Get("edit_note")))
	c.afterAction(w, r, s, err)
}

func splitTags(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}
