package policy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/logging"
	"github.com/open-policy-agent/opa/v1/runtime"
)

// startSidecar runs an OPA server from the opa module on loopback, loaded
// with the shipped policies (tests left out), the way a user of the
// sidecar design would deploy it, and returns its URL.
func startSidecar(b *testing.B) string {
	b.Helper()
	params := runtime.NewParams()
	params.Addrs = &[]string{"127.0.0.1:0"}
	params.Paths = []string{shippedPolicies}
	params.Filter = func(_ string, info fs.FileInfo, _ int) bool {
		return strings.HasSuffix(info.Name(), "_test.rego") || (info.IsDir() && info.Name() == "testdata")
	}
	params.Output = io.Discard
	// Its request log would land in the benchmark output, between a
	// benchmark's name and its figures.
	params.Logger, params.ConsoleLogger = logging.NewNoOpLogger(), logging.NewNoOpLogger()
	ctx, cancel := context.WithCancel(context.Background())
	rt, err := runtime.NewRuntime(ctx, params)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = rt.Serve(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(30 * time.Second)
	for len(rt.Addrs()) == 0 {
		if time.Now().After(deadline) {
			b.Fatal("the OPA server did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return "http://" + rt.Addrs()[0]
}

// BenchmarkDecisionSidecar queries an OPA server over loopback HTTP for
// the workflow's outputs of one order: the baseline of
// BenchmarkDecision/prepared, run in the same `make bench`.
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
