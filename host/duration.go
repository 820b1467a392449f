package host

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseDays parses a Go duration with an optional leading count of days
// ("3d", "1d12h", "90m"): how rules and settings write long durations.
func ParseDays(s string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 || n > 100000 {
			return 0, fmt.Errorf("bad day count in %q", s)
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	return days + d, err
}

// FormatDays writes a duration of whole days as "Nd", others as Go does.
func FormatDays(d time.Duration) string {
	if d%(24*time.Hour) == 0 && d > 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
