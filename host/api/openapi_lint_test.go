package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// lintTools is the npm package of the pinned Redocly CLI; make
// openapi-lint-tools installs it (npm ci).
const lintTools = "testdata/openapi-lint"

// TestOpenAPILint lints the served /openapi.json with the real Redocly
// CLI and its recommended ruleset (testdata/openapi-lint/redocly.yaml):
// any error, warning or ignored problem fails, with redocly's findings.
func TestOpenAPILint(t *testing.T) {
	dir, err := filepath.Abs(lintTools)
	if err != nil {
		t.Fatal(err)
	}
	redocly := filepath.Join(dir, "node_modules", ".bin", "redocly")
	if _, err := os.Stat(redocly); err != nil {
		t.Fatalf("the Redocly CLI is not installed (%v): run `make openapi-lint-tools` (npm ci in host/api/%s)", err, lintTools)
	}
	h := newTestHost(t, shippedPolicies)
	doc := filepath.Join(t.TempDir(), "openapi.json")
	if err := os.WriteFile(doc, h.expect(h.do("GET", "/openapi.json", h.admin, nil), http.StatusOK).body, 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// --lint-config=error: a mistake in redocly.yaml fails too.
	cmd := exec.CommandContext(ctx, redocly, "lint", "--config="+filepath.Join(dir, "redocly.yaml"), "--lint-config=error", "--format=json", doc)
	cmd.Dir = t.TempDir()
	// Only the npm registry is reachable from CI: no usage data, no
	// update check.
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true", "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()

	var out struct {
		Totals struct {
			Errors, Warnings, Ignored int
		} `json:"totals"`
		Problems []struct {
			RuleID   string `json:"ruleId"`
			Severity string `json:"severity"`
			Message  string `json:"message"`
			Location []struct {
				Pointer string `json:"pointer"`
			} `json:"location"`
		} `json:"problems"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("redocly lint: %v; its output is not its JSON report (%v):\n%s\n%s", runErr, err, stdout.Bytes(), stderr.Bytes())
	}
	var exit *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exit) {
		t.Fatalf("running redocly: %v\n%s", runErr, stderr.Bytes())
	}
	if out.Totals.Errors+out.Totals.Warnings+out.Totals.Ignored == 0 && len(out.Problems) == 0 && runErr == nil {
		return
	}
	var report strings.Builder
	for _, p := range out.Problems {
		where := ""
		if len(p.Location) > 0 {
			where = p.Location[0].Pointer
		}
		fmt.Fprintf(&report, "  %s %s: %s at %s\n", p.Severity, p.RuleID, p.Message, where)
	}
	t.Errorf("redocly lint (exit: %v) found %d errors, %d warnings and %d ignored problems in the served document:\n%s%s",
		runErr, out.Totals.Errors, out.Totals.Warnings, out.Totals.Ignored, report.String(), stderr.Bytes())
}
