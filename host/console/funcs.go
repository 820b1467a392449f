package console

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/ordergate/ordergate/sdk"
)

// funcs are the templates' helpers. None returns template.HTML: every
// value a page shows is escaped by html/template.
var funcs = template.FuncMap{
	"time":        formatTime,
	"timep":       formatTimePtr,
	"ago":         ago,
	"reasonLabel": reasonLabel,
	"plural":      pluralOrders,
	"short":       shortRevision,
	"join":        strings.Join,
	"dict":        dict,
}

// dict builds a map of key, value pairs, for passing several values to
// a template.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict needs key, value pairs")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict's keys are strings")
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// formatTime writes a time for people, in UTC, to the minute.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func formatTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return formatTime(*t)
}

// ago writes how long before now t was: "5m", "3h", "2d".
func ago(now time.Time, t *time.Time) string {
	if t == nil {
		return ""
	}
	d := now.Sub(*t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

var reasonLabels = map[string]string{
	sdk.HoldCustomRule:             "Custom rule",
	sdk.HoldDuplicateOrder:         "Duplicate order",
	sdk.HoldNotManagedItem:         "Not-managed item",
	sdk.HoldInsufficientQuantity:   "Insufficient quantity",
	sdk.HoldDisabledSource:         "Disabled source",
	sdk.HoldUnmappedShippingPolicy: "Unmapped shipping policy",
	sdk.HoldPolicyError:            "Policy error",
}

// reasonLabel names a hold reason for people.
func reasonLabel(reason string) string {
	if l, ok := reasonLabels[reason]; ok {
		return l
	}
	return reason
}

// shortRevision is the first 12 characters of a revision id.
func shortRevision(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
