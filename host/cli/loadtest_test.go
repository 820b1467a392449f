package cli

import "testing"

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    string
		n    int
		want string
	}{
		{"short", "abc", 5, "abc"},
		{"exact", "abcde", 5, "abcde"},
		{"long", "abcdefgh", 5, "abcde… (8 bytes in all)"},
		{"not inside a rune", "abcdé", 5, "abcd… (6 bytes in all)"},
		{"at a rune's start", "abcdéf", 6, "abcdé… (7 bytes in all)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := truncate(tc.s, tc.n); got != tc.want {
				t.Errorf("truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
			}
		})
	}
}
