package host

import (
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/ordergate/ordergate/sdk"
)

// Limits of the catalog data.
const (
	MaxNameLength = 200
	// MaxAvailable bounds a stock level; more is a data error.
	MaxAvailable = 1_000_000_000
	// MaxInventoryRows bounds one inventory upload.
	MaxInventoryRows = 500_000
	// MaxDuplicateWindow bounds the duplicate search window.
	MaxDuplicateWindow = 30 * 24 * time.Hour
	// MaxGroupSources and MaxGroupChannels bound a routing group, and
	// MaxShippingMethods a channel's shipping mappings: an order's facts
	// read the whole group and mappings, so their size bounds its cost.
	MaxGroupSources    = 100
	MaxGroupChannels   = 1000
	MaxShippingMethods = 1000
)

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidID reports whether id is a well-formed id of a source or routing
// group (the same form as a channel id).
func ValidID(id string) bool { return idPattern.MatchString(id) }

// checkName returns what is wrong with a display name, or "".
func checkName(name string, required bool) string {
	switch {
	case name == "" && required:
		return "is required"
	case len(name) > MaxNameLength:
		return fmt.Sprintf("is longer than %d bytes", MaxNameLength)
	case !utf8.ValidString(name):
		return "is not valid UTF-8"
	}
	return ""
}

// checkIDAndName checks the id and name of a source or routing group.
func checkIDAndName(id, name string) []sdk.FieldError {
	var errs []sdk.FieldError
	if !ValidID(id) {
		errs = append(errs, sdk.FieldError{Field: "id", Detail: "must be 1-64 lower-case letters, digits, '_' or '-', starting with a letter or digit"})
	}
	if d := checkName(name, true); d != "" {
		errs = append(errs, sdk.FieldError{Field: "name", Detail: d})
	}
	return errs
}
