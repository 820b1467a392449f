package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

// ordersPage is the data of the orders query.
type ordersPage struct {
	Orders struct {
		Edges []struct {
			Cursor string    `json:"cursor"`
			Node   shopOrder `json:"node"`
		} `json:"edges"`
		PageInfo struct {
			HasNextPage bool   `json:"hasNextPage"`
			EndCursor   string `json:"endCursor"`
		} `json:"pageInfo"`
	} `json:"orders"`
}

type money struct {
	ShopMoney struct {
		Amount string `json:"amount"`
	} `json:"shopMoney"`
}

type address struct {
	Name          string `json:"name"`
	Company       string `json:"company"`
	Address1      string `json:"address1"`
	Address2      string `json:"address2"`
	City          string `json:"city"`
	ProvinceCode  string `json:"provinceCode"`
	Zip           string `json:"zip"`
	CountryCodeV2 string `json:"countryCodeV2"`
}

// shopOrder is a Shopify Order as the orders query selects it.
type shopOrder struct {
	ID                       string     `json:"id"`
	Name                     string     `json:"name"`
	CreatedAt                time.Time  `json:"createdAt"`
	ProcessedAt              *time.Time `json:"processedAt"`
	UpdatedAt                time.Time  `json:"updatedAt"`
	CancelledAt              *time.Time `json:"cancelledAt"`
	CancelReason             *string    `json:"cancelReason"`
	CurrencyCode             string     `json:"currencyCode"`
	Email                    string     `json:"email"`
	Phone                    string     `json:"phone"`
	Note                     string     `json:"note"`
	Tags                     []string   `json:"tags"`
	DisplayFinancialStatus   string     `json:"displayFinancialStatus"`
	DisplayFulfillmentStatus string     `json:"displayFulfillmentStatus"`
	Customer                 *struct {
		FirstName           string `json:"firstName"`
		LastName            string `json:"lastName"`
		DefaultEmailAddress *struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"defaultEmailAddress"`
		DefaultPhoneNumber *struct {
			PhoneNumber string `json:"phoneNumber"`
		} `json:"defaultPhoneNumber"`
	} `json:"customer"`
	ShippingAddress *address `json:"shippingAddress"`
	BillingAddress  *address `json:"billingAddress"`
	ShippingLine    *struct {
		Title string `json:"title"`
		Code  string `json:"code"`
	} `json:"shippingLine"`
	CustomAttributes []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"customAttributes"`
	SubtotalPriceSet      *money    `json:"subtotalPriceSet"`
	TotalShippingPriceSet *money    `json:"totalShippingPriceSet"`
	TotalTaxSet           *money    `json:"totalTaxSet"`
	TotalPriceSet         *money    `json:"totalPriceSet"`
	LineItems             lineItems `json:"lineItems"`
}

// lineItems is a page of an order's line items.
type lineItems struct {
	Edges []struct {
		Node struct {
			SKU                  *string `json:"sku"`
			Title                string  `json:"title"`
			Quantity             int64   `json:"quantity"`
			OriginalUnitPriceSet *money  `json:"originalUnitPriceSet"`
		} `json:"node"`
	} `json:"edges"`
	PageInfo struct {
		HasNextPage bool   `json:"hasNextPage"`
		EndCursor   string `json:"endCursor"`
	} `json:"pageInfo"`
}

// mapOrder turns a Shopify order into the canonical order. Lines without
// a SKU keep their line (the not_managed_item hold deals with them). A
// canceled order carries Shopify's cancellation: the host cancels the
// imported order when it comes again with canceled_at.
func mapOrder(s *shopOrder) (sdk.Order, error) {
	if s.ID == "" {
		return sdk.Order{}, fmt.Errorf("has no id")
	}
	for _, t := range []struct {
		name string
		at   *time.Time
	}{{"createdAt", &s.CreatedAt}, {"processedAt", s.ProcessedAt}, {"cancelledAt", s.CancelledAt}} {
		if t.at != nil && !encodable(*t.at) {
			return sdk.Order{}, fmt.Errorf("has %s %s, outside the years 0000-9999 in UTC", t.name, t.at.Format(time.RFC3339))
		}
	}
	o := sdk.Order{
		ExternalID: strings.TrimPrefix(s.ID, "gid://shopify/Order/"),
		Number:     s.Name,
		PlacedAt:   s.CreatedAt.UTC(),
		Currency:   s.CurrencyCode,
		Note:       s.Note,
		Tags:       s.Tags,
		Customer:   sdk.Customer{Email: s.Email, Phone: s.Phone},
	}
	if s.ProcessedAt != nil {
		o.PlacedAt = s.ProcessedAt.UTC()
	}
	if c := s.Customer; c != nil {
		o.Customer.Name = strings.TrimSpace(c.FirstName + " " + c.LastName)
		if o.Customer.Email == "" && c.DefaultEmailAddress != nil {
			o.Customer.Email = c.DefaultEmailAddress.EmailAddress
		}
		if o.Customer.Phone == "" && c.DefaultPhoneNumber != nil {
			o.Customer.Phone = c.DefaultPhoneNumber.PhoneNumber
		}
	}
	if s.CancelledAt != nil {
		at := s.CancelledAt.UTC()
		o.CanceledAt = &at
		if s.CancelReason != nil {
			o.CancelReason = strings.ToLower(*s.CancelReason)
		}
	}
	if a := s.ShippingAddress; a != nil {
		o.ShippingAddress = mapAddress(a)
	} else if a := s.BillingAddress; a != nil {
		// Orders without shipping (digital goods) ship nowhere; the billing
		// country keeps the order valid and routable by rules.
		o.ShippingAddress = sdk.Address{Country: a.CountryCodeV2}
	}
	if a := s.BillingAddress; a != nil {
		b := mapAddress(a)
		o.BillingAddress = &b
	}
	if l := s.ShippingLine; l != nil {
		o.ShippingMethod = l.Title
	}
	for _, a := range s.CustomAttributes {
		if o.CustomFields == nil {
			o.CustomFields = map[string]string{}
		}
		o.CustomFields[fieldKey(a.Key)] = a.Value
	}
	if s.DisplayFinancialStatus != "" || s.DisplayFulfillmentStatus != "" {
		if o.CustomFields == nil {
			o.CustomFields = map[string]string{}
		}
		if s.DisplayFinancialStatus != "" {
			o.CustomFields["shopify_financial_status"] = strings.ToLower(s.DisplayFinancialStatus)
		}
		if s.DisplayFulfillmentStatus != "" {
			o.CustomFields["shopify_fulfillment_status"] = strings.ToLower(s.DisplayFulfillmentStatus)
		}
	}
	o.Totals = sdk.Totals{Subtotal: amount(s.SubtotalPriceSet), Shipping: amount(s.TotalShippingPriceSet), Tax: amount(s.TotalTaxSet), Total: amount(s.TotalPriceSet)}
	for _, e := range s.LineItems.Edges {
		n := e.Node
		li := sdk.LineItem{Title: n.Title, Quantity: n.Quantity, UnitPrice: amount(n.OriginalUnitPriceSet)}
		if n.SKU != nil {
			li.SKU = *n.SKU
		}
		o.LineItems = append(o.LineItems, li)
	}
	return o, nil
}

// encodable reports whether t, in UTC, has the four-digit year JSON's
// RFC 3339 needs: an order with another would fail to cross the plugin
// protocol.
func encodable(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 0 && y <= 9999
}

func mapAddress(a *address) sdk.Address {
	return sdk.Address{Name: a.Name, Company: a.Company, Address1: a.Address1, Address2: a.Address2,
		City: a.City, Region: a.ProvinceCode, PostalCode: a.Zip, Country: a.CountryCodeV2}
}

// amount returns a Shopify Decimal as canonical money ("19.9" stays
// "19.9"; a trailing ".0" is kept as Shopify sends it).
func amount(m *money) sdk.Money {
	if m == nil {
		return ""
	}
	return sdk.Money(m.ShopMoney.Amount)
}

// fieldKey makes a custom attribute's key a valid custom_fields key:
// letters, digits, '_' and '-', at most 64.
func fieldKey(k string) string {
	var b strings.Builder
	for _, r := range k {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 64 {
		s = s[:64]
	}
	if s == "" {
		s = "_"
	}
	return s
}
