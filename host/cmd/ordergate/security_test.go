package main_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host/internal/e2e"
)

// TestKeyRateLimit: a reseller key over its rate gets 429 with
// Retry-After and a problem document, and is served again once the
// bucket refills; admin keys are not limited. At 0.2 requests per second
// a token takes 5 s to come back, so the burst is spent well before.
func TestKeyRateLimit(t *testing.T) {
	ctx := context.Background()
	h := e2e.Start(t, bin, nil, "--data", t.TempDir(), "--policies", policies, "--key-rate", "0.2", "--key-burst", "3")
	mustDo(t, h, "POST", "/api/v1/channels", h.AdminKey, map[string]any{"id": "acme", "kind": "b2b"}, 201)
	created := decode(t, mustDo(t, h, "POST", "/api/v1/keys", h.AdminKey, map[string]any{"role": "reseller", "channel_id": "acme"}, 201))
	reseller := created["secret"].(string)

	for range 3 {
		mustDo(t, h, "GET", "/api/v1/orders", reseller, nil, 200)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", h.URL+"/api/v1/orders", nil)
	req.Header.Set("Authorization", "Bearer "+reseller)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	retry, _ := strconv.Atoi(res.Header.Get("Retry-After"))
	if res.StatusCode != 429 || retry < 1 || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("4th request at burst 3: %d, Retry-After %q, %s", res.StatusCode, res.Header.Get("Retry-After"), res.Header.Get("Content-Type"))
	}
	for range 10 {
		mustDo(t, h, "GET", "/api/v1/orders", h.AdminKey, nil, 200)
	}
	e2e.Eventually(t, 15*time.Second, func() error {
		if code, body, err := h.Do(ctx, "GET", "/api/v1/orders", reseller, nil); err != nil || code != 200 {
			return fmt.Errorf("%d %s %v", code, body, err)
		}
		return nil
	})
}

// TestServeTLS: with --tls-cert and --tls-key the host serves HTTPS only.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pool := selfSigned(t, certFile, keyFile)
	h := e2e.Start(t, bin, nil, "--data", t.TempDir(), "--policies", policies, "--tls-cert", certFile, "--tls-key", keyFile)
	addr := strings.TrimPrefix(h.URL, "http://")

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	res, err := client.Get("https://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.TLS == nil || res.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("healthz over TLS: %d %+v", res.StatusCode, res.TLS)
	}
	if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
		res.Body.Close()
		if res.StatusCode == 200 {
			t.Error("plain HTTP is served next to TLS")
		}
	}
	if out := run(t, 1, "serve", "--data", t.TempDir(), "--tls-cert", certFile); !strings.Contains(out, "go together") {
		t.Errorf("--tls-cert alone: %q", out)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// a pool that trusts it.
func selfSigned(t *testing.T, certFile, keyFile string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ordergate test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	writeFile(t, keyFile, string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

// TestSecretKeyRequired: a host whose database holds a sealed secret does
// not start without the key, nor with another one, and starts with it.
func TestSecretKeyRequired(t *testing.T) {
	data := t.TempDir()
	h := e2e.Start(t, bin, nil, "--data", data, "--policies", policies)
	mustDo(t, h, "POST", "/api/v1/alert-destinations", h.AdminKey,
		map[string]any{"name": "hook", "kind": "webhook", "url": "https://example.com/hook", "secret": "whsec_e2e"}, 201)
	if code, err := h.Stop(30 * time.Second); err != nil || code != 0 {
		t.Fatalf("stop: %d %v", code, err)
	}
	if out := run(t, 1, "serve", "--data", data, "--policies", policies, "--addr", "127.0.0.1:0"); !strings.Contains(out, "no secret key was given") {
		t.Errorf("without a key: %q", out)
	}
	other := filepath.Join(t.TempDir(), "other.key")
	writeFile(t, other, strings.TrimSpace(run(t, 0, "secret-key")))
	if out := run(t, 1, "serve", "--data", data, "--policies", policies, "--addr", "127.0.0.1:0", "--secret-key-file", other); !strings.Contains(out, "do not open") {
		t.Errorf("with another key: %q", out)
	}
	e2e.Start(t, bin, nil, "--data", data, "--policies", policies)
}

// TestSlowClientIsCut: a client that never finishes its request headers
// is disconnected once --read-header-timeout has passed, instead of
// holding a connection open.
func TestSlowClientIsCut(t *testing.T) {
	h := e2e.Start(t, bin, nil, "--data", t.TempDir(), "--policies", policies, "--read-header-timeout", "300ms")
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: ordergate\r\nX-Slow: ")); err != nil {
		t.Fatal(err)
	}
	// Wait for the server to end the connection; the deadline only keeps
	// a broken server from hanging the test.
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 512)
	var got []byte
	for {
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server kept a half-sent request open for 30 s (read %q)", got)
			}
			break // closed by the server
		}
	}
	if len(got) > 0 && !strings.Contains(string(got), "408") {
		t.Errorf("the server answered %q", got)
	}
}
