package sdk

import (
	"fmt"
	"net/mail"
	"sort"
	"strings"
	"unicode/utf8"
)

// Limits on the size of one order. They keep a single order small enough to
// evaluate and store quickly and reject payloads that are clearly not orders.
const (
	MaxLineItems    = 1000
	MaxQuantity     = 1_000_000
	MaxIDLength     = 255
	MaxTextLength   = 1024
	MaxNoteLength   = 16 * 1024
	MaxTags         = 100
	MaxCustomFields = 100
)

// FieldError names one field of an input that is not acceptable and says
// why, in words a person can act on. Field is a JSON path such as
// "line_items[0].quantity".
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Detail }

// ValidationError is a list of field errors; it is what Validate returns.
type ValidationError []FieldError

func (v ValidationError) Error() string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// validator collects field errors.
type validator struct{ errs ValidationError }

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
}

func (v *validator) text(field, value string, required bool, max int) {
	switch {
	case value == "" && required:
		v.add(field, "is required")
	case len(value) > max:
		v.add(field, "is longer than %d bytes", max)
	case !utf8.ValidString(value):
		v.add(field, "is not valid UTF-8")
	}
}

func (v *validator) money(field string, m Money, required bool) {
	if m == "" {
		if required {
			v.add(field, "is required")
		}
		return
	}
	if !m.Valid() {
		v.add(field, "must be a non-negative decimal string such as \"12.50\" (got %q)", truncate(string(m)))
	}
}

// Validate checks the channel-provided part of the order and reports every
// problem at once. Host-owned fields must be empty: they are set by the host.
func (o *Order) Validate() error {
	var v validator
	v.text("external_id", o.ExternalID, true, MaxIDLength)
	v.text("number", o.Number, true, MaxIDLength)
	if o.PlacedAt.IsZero() {
		v.add("placed_at", "is required (RFC 3339 time, e.g. \"2026-11-28T09:30:00Z\")")
	}
	switch {
	case o.Currency == "":
		v.add("currency", "is required (ISO 4217 code, e.g. \"USD\")")
	case !ValidCurrency(o.Currency):
		v.add("currency", "%q is not an ISO 4217 currency code", truncate(o.Currency))
	}
	v.text("customer.name", o.Customer.Name, false, MaxTextLength)
	v.text("customer.phone", o.Customer.Phone, false, MaxTextLength)
	if o.Customer.Email != "" {
		if _, err := mail.ParseAddress(o.Customer.Email); err != nil || len(o.Customer.Email) > MaxTextLength {
			v.add("customer.email", "%q is not an email address", truncate(o.Customer.Email))
		}
	}
	v.address("shipping_address", &o.ShippingAddress)
	if o.BillingAddress != nil {
		v.address("billing_address", o.BillingAddress)
	}
	v.text("shipping_method", o.ShippingMethod, false, MaxTextLength)
	switch {
	case len(o.LineItems) == 0:
		v.add("line_items", "must have at least one line item")
	case len(o.LineItems) > MaxLineItems:
		v.add("line_items", "has %d line items; at most %d are accepted", len(o.LineItems), MaxLineItems)
	default:
		for i := range o.LineItems {
			v.lineItem(fmt.Sprintf("line_items[%d]", i), &o.LineItems[i])
		}
	}
	v.money("totals.subtotal", o.Totals.Subtotal, false)
	v.money("totals.shipping", o.Totals.Shipping, false)
	v.money("totals.tax", o.Totals.Tax, false)
	v.money("totals.total", o.Totals.Total, true)
	v.text("note", o.Note, false, MaxNoteLength)
	if len(o.Tags) > MaxTags {
		v.add("tags", "has %d tags; at most %d are accepted", len(o.Tags), MaxTags)
	} else {
		for i, t := range o.Tags {
			v.text(fmt.Sprintf("tags[%d]", i), t, true, MaxTextLength)
		}
	}
	if len(o.CustomFields) > MaxCustomFields {
		v.add("custom_fields", "has %d fields; at most %d are accepted", len(o.CustomFields), MaxCustomFields)
	} else {
		keys := make([]string, 0, len(o.CustomFields))
		for k := range o.CustomFields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !validFieldKey(k) {
				v.add("custom_fields", "key %q must be 1-64 letters, digits, '_' or '-'", truncate(k))
				continue
			}
			v.text("custom_fields."+k, o.CustomFields[k], false, MaxTextLength)
		}
	}
	v.text("cancel_reason", o.CancelReason, false, MaxTextLength)
	if o.CancelReason != "" && o.CanceledAt == nil {
		v.add("cancel_reason", "is only given with canceled_at, the time the channel canceled the order")
	}
	v.hostOwned(o)
	if len(v.errs) > 0 {
		return v.errs
	}
	return nil
}

func (v *validator) address(prefix string, a *Address) {
	for _, f := range []struct{ name, value string }{
		{"name", a.Name}, {"company", a.Company}, {"address1", a.Address1}, {"address2", a.Address2},
		{"city", a.City}, {"region", a.Region}, {"postal_code", a.PostalCode},
	} {
		v.text(prefix+"."+f.name, f.value, false, MaxTextLength)
	}
	switch {
	case a.Country == "":
		v.add(prefix+".country", "is required (ISO 3166-1 alpha-2 code, e.g. \"US\")")
	case !ValidCountry(a.Country):
		v.add(prefix+".country", "%q is not an ISO 3166-1 alpha-2 country code", truncate(a.Country))
	}
}

func (v *validator) lineItem(prefix string, li *LineItem) {
	v.text(prefix+".sku", li.SKU, false, MaxIDLength)
	v.text(prefix+".title", li.Title, false, MaxTextLength)
	switch {
	case li.Quantity < 1:
		v.add(prefix+".quantity", "must be a whole number of at least 1 (got %d)", li.Quantity)
	case li.Quantity > MaxQuantity:
		v.add(prefix+".quantity", "must be at most %d (got %d)", MaxQuantity, li.Quantity)
	}
	v.money(prefix+".unit_price", li.UnitPrice, true)
}

func (v *validator) hostOwned(o *Order) {
	const why = "is set by the host; leave it out"
	if o.ID != "" {
		v.add("id", why)
	}
	if o.Status != "" {
		v.add("status", why)
	}
	if len(o.Holds) > 0 {
		v.add("holds", why)
	}
	if o.Cancellation != nil {
		v.add("cancellation", why)
	}
	if len(o.Alerts) > 0 {
		v.add("alerts", why)
	}
	if o.Workflow != nil {
		v.add("workflow", why)
	}
	if o.ImportedAt != nil {
		v.add("imported_at", why)
	}
	if o.UpdatedAt != nil {
		v.add("updated_at", why)
	}
	if len(o.Events) > 0 {
		v.add("events", why)
	}
}

func validFieldKey(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for _, r := range k {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// truncate shortens a value quoted back in an error message.
func truncate(s string) string {
	if len(s) <= 64 {
		return s
	}
	return s[:64] + "…"
}
