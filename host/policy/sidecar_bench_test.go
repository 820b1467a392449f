package policy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// OPABinaryEnv names the stock opa binary BenchmarkDecisionSidecar runs;
// make bench sets it to bin/opa-<version>, the binary it builds from the
// module proxy at the version of github.com/open-policy-agent/opa in
// go.mod. Without it the benchmark looks for that binary in ../../bin.
const OPABinaryEnv = "ORDERGATE_BENCH_OPA"

// opaBinary returns the stock opa binary to run, checked to be the OPA
// release the host is built with, or skips the benchmark when there is
// none.
func opaBinary(b *testing.B) string {
	b.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", "github.com/open-policy-agent/opa").Output()
	if err != nil {
		b.Fatalf("go list -m github.com/open-policy-agent/opa: %v", err)
	}
	version := strings.TrimSpace(string(out))
	bin := os.Getenv(OPABinaryEnv)
	if bin == "" {
		bin = filepath.Join("..", "..", "bin", "opa-"+version)
		if _, err := os.Stat(bin); err != nil {
			b.Skipf("no stock opa binary: set %s, or build %s (make bench does both)", OPABinaryEnv, bin)
		}
	}
	out, err = exec.Command(bin, "version").Output()
	if err != nil {
		b.Fatalf("%s version: %v", bin, err)
	}
	if !strings.Contains(string(out), "Version: "+strings.TrimPrefix(version, "v")+"\n") {
		b.Fatalf("%s is not OPA %s, the version in go.mod:\n%s", bin, version, out)
	}
	return bin
}

// startSidecar runs the stock opa binary as a server on loopback, loaded
// with the shipped policies (tests left out), the way a user of the
// sidecar design would deploy it, and returns its URL once it is healthy.
func startSidecar(b *testing.B) string {
	b.Helper()
	bin := opaBinary(b)
	// opa does not say which port it got for :0, so a free port is picked
	// here; should another process take it before opa binds it, opa exits
	// and another port is tried.
	var lastErr error
	for range 3 {
		url, err := runSidecar(b, bin)
		if err == nil {
			return url
		}
		lastErr = err
	}
	b.Fatal(lastErr)
	return ""
}

// runSidecar starts opa on a free loopback port and waits until it
// answers /health, or until it exits.
func runSidecar(b *testing.B, bin string) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "run", "--server", "--addr", addr, "--skip-version-check", "--log-level", "error",
		"--ignore", "*_test.rego", "--ignore", "testdata", shippedPolicies)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() { _ = cmd.Process.Kill(); <-exited }

	url := "http://" + addr
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/health", nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				b.Cleanup(stop)
				return url, nil
			}
		}
		select {
		case err := <-exited:
			return "", fmt.Errorf("opa exited before serving on %s (%v): %s", addr, err, stderr.String())
		case <-ctx.Done():
			stop()
			return "", errors.New("the OPA server did not become healthy within 30s: " + stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// BenchmarkDecisionSidecar queries an OPA server, the stock opa binary of
// the OPA release in go.mod in its own process, over loopback HTTP for the
// workflow's outputs of one order: the baseline of
// BenchmarkDecision/prepared, run in the same `make bench`. Its B/op and
// allocs/op are the client's only; the server allocates in its own process.
func BenchmarkDecisionSidecar(b *testing.B) {
	url := startSidecar(b) + "/v1/data/ordergate/workflow"
	in := input(loadOrder(b, "order-1203.json"), "b2c")
	inputJSON, err := ast.JSON(in.Value())
	if err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"input": inputJSON})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	post := func() (map[string]any, error) {
		res, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		var out struct {
			Result map[string]any `json:"result"`
		}
		return out.Result, json.NewDecoder(res.Body).Decode(&out)
	}
	res, err := post()
	if err != nil {
		b.Fatal(err)
	}
	review, _ := res["review"].(map[string]any)
	if tags, _ := review["tags"].([]any); len(tags) != 1 || tags[0] != "Review Needed" {
		b.Fatalf("the sidecar's decision: %v", res)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := post(); err != nil {
			b.Fatal(err)
		}
	}
}
