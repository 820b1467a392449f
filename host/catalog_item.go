package host

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/ordergate/ordergate/sdk"
)

// CatalogItem is a product the merchant sells. The built-in
// not_managed_item rule holds orders with a SKU that is missing from the
// catalog or whose item is not managed (sold but not fulfilled through
// ordergate's routing). An empty catalog means the merchant keeps no
// catalog in ordergate, and nothing is held for it.
type CatalogItem struct {
	SKU       string    `json:"sku"`
	Title     string    `json:"title,omitempty"`
	Managed   bool      `json:"managed"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CheckSKU returns what is wrong with a SKU, or "".
func CheckSKU(sku string) string {
	switch {
	case sku == "":
		return "is required"
	case len(sku) > sdk.MaxIDLength:
		return fmt.Sprintf("is longer than %d bytes", sdk.MaxIDLength)
	case !utf8.ValidString(sku):
		return "is not valid UTF-8"
	}
	for _, r := range sku {
		if r < 0x20 || r == 0x7f {
			return "contains a control character"
		}
	}
	return ""
}

// Validate checks a catalog item; field names are prefixed with prefix.
func (c *CatalogItem) Validate(prefix string) []sdk.FieldError {
	var errs []sdk.FieldError
	if d := CheckSKU(c.SKU); d != "" {
		errs = append(errs, sdk.FieldError{Field: prefix + "sku", Detail: d})
	}
	if d := checkName(c.Title, false); d != "" {
		errs = append(errs, sdk.FieldError{Field: prefix + "title", Detail: d})
	}
	return errs
}

// MaxCatalogItems bounds one catalog request.
const MaxCatalogItems = 10_000

// CatalogRequest creates or replaces catalog items.
type CatalogRequest struct {
	Items []CatalogItemRequest `json:"items"`
}

// CatalogItemRequest is one catalog item; Managed defaults to true.
type CatalogItemRequest struct {
	SKU     string `json:"sku"`
	Title   string `json:"title,omitempty"`
	Managed *bool  `json:"managed,omitempty"`
}

// CatalogItems returns the catalog items the request asks for, changed at now,
// or every problem of the request.
func (r *CatalogRequest) CatalogItems(now time.Time) ([]*CatalogItem, []sdk.FieldError) {
	var bad []sdk.FieldError
	switch {
	case len(r.Items) == 0:
		bad = append(bad, sdk.FieldError{Field: "items", Detail: "is required"})
	case len(r.Items) > MaxCatalogItems:
		bad = append(bad, sdk.FieldError{Field: "items", Detail: fmt.Sprintf("has %d items; at most %d are accepted", len(r.Items), MaxCatalogItems)})
	}
	items := make([]*CatalogItem, len(r.Items))
	seen := map[string]int{}
	for i, it := range r.Items {
		items[i] = &CatalogItem{SKU: it.SKU, Title: it.Title, Managed: it.Managed == nil || *it.Managed, UpdatedAt: now}
		prefix := fmt.Sprintf("items[%d].", i)
		bad = append(bad, items[i].Validate(prefix)...)
		if j, dup := seen[it.SKU]; dup {
			bad = append(bad, sdk.FieldError{Field: prefix + "sku", Detail: fmt.Sprintf("%q is also items[%d]", it.SKU, j)})
		}
		seen[it.SKU] = i
	}
	if len(bad) > 0 {
		return nil, bad
	}
	return items, nil
}
