package sdk

import "regexp"

// Money is an amount as a decimal string ("12.50"), never a float, so that
// no cent is lost between a channel and the books. It has at most 15 digits
// before the point and at most 4 after, and no sign.
type Money string

var moneyPattern = regexp.MustCompile(`^(0|[1-9][0-9]{0,14})(\.[0-9]{1,4})?$`)

// Valid reports whether m is a well-formed non-negative decimal amount.
func (m Money) Valid() bool { return moneyPattern.MatchString(string(m)) }
