package cli

import "testing"

func TestGCTarget(t *testing.T) {
	for _, tc := range []struct {
		name    string
		percent int
		given   bool
		gogc    string
		want    int
		apply   bool
	}{
		{"default", DefaultGCPercent, false, "", DefaultGCPercent, true},
		{"GOGC stands when the flag is not given", DefaultGCPercent, false, "150", 0, false},
		{"the flag wins over GOGC", 250, true, "150", 250, true},
		{"the flag without GOGC", 250, true, "", 250, true},
		{"collection off", -1, true, "", -1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, apply := gcTarget(tc.percent, tc.given, tc.gogc)
			if got != tc.want || apply != tc.apply {
				t.Errorf("gcTarget(%d, %t, %q) = %d, %t; want %d, %t", tc.percent, tc.given, tc.gogc, got, apply, tc.want, tc.apply)
			}
		})
	}
}
