package alerts_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/alerts"
)

// mailbox is a real SMTP server in the test process that keeps what it
// receives.
type mailbox struct {
	mu          sync.Mutex
	mails       []mail
	requireAuth bool
}

type mail struct {
	from string
	to   []string
	data string
}

type session struct {
	box    *mailbox
	m      mail
	authed bool
}

// AuthMechanisms and Auth accept PLAIN with user "ordergate" and password
// "s3cret".
func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "ordergate" || pass != "s3cret" {
			return errors.New("bad credentials")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Reset()        { s.m = mail{} }
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.box.requireAuth && !s.authed {
		return errors.New("authentication required")
	}
	s.m.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.m.to = append(s.m.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.data = string(b)
	s.box.mu.Lock()
	s.box.mails = append(s.box.mails, s.m)
	s.box.mu.Unlock()
	return nil
}

func startSMTP(t *testing.T, tlsConfig *tls.Config) (*mailbox, string, int) {
	t.Helper()
	box := &mailbox{requireAuth: tlsConfig != nil}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{box: box}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = tlsConfig == nil
	srv.TLSConfig = tlsConfig
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	p, _ := strconv.Atoi(port)
	return box, host, p
}

func TestEmailDestination(t *testing.T) {
	box, smtpHost, port := startSMTP(t, nil)
	f := setup(t)
	dest := &host.Destination{Name: "sales", Kind: host.DestinationEmail, SMTPHost: smtpHost, SMTPPort: port, TLS: "none",
		From: "ordergate@example.com", To: []string{"sales@example.com", "boss@example.com"}}
	if errs := dest.Validate(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if err := f.db.CreateDestination(context.Background(), dest); err != nil {
		t.Fatal(err)
	}
	r := f.importLarge(t, "big-1")
	run(t, f, alerts.Config{Timeout: 5 * time.Second})
	got := waitStatus(t, f, host.DeliveryDelivered, 1)[0]
	box.mu.Lock()
	defer box.mu.Unlock()
	if len(box.mails) != 1 {
		t.Fatalf("%d mails", len(box.mails))
	}
	m := box.mails[0]
	if m.from != "ordergate@example.com" || len(m.to) != 2 || !strings.Contains(m.data, "Subject: [ordergate] info alert: order #1203") ||
		!strings.Contains(m.data, got.ID+"@ordergate") || !strings.Contains(m.data, r.ID) {
		t.Errorf("mail from %s to %v:\n%s", m.from, m.to, m.data)
	}
}

// TestEmailOverSTARTTLSWithAuth: with the default mandatory TLS, the mail
// goes over STARTTLS and logs in with PLAIN.
func TestEmailOverSTARTTLSWithAuth(t *testing.T) {
	// Borrow httptest's certificate for 127.0.0.1 and trust it.
	ts := httptest.NewUnstartedServer(nil)
	ts.StartTLS()
	defer ts.Close()
	roots := x509.NewCertPool()
	roots.AddCert(ts.Certificate())
	box, _, port := startSMTP(t, &tls.Config{Certificates: ts.TLS.Certificates})

	f := setup(t)
	dest := &host.Destination{Name: "sales", Kind: host.DestinationEmail, SMTPHost: "127.0.0.1", SMTPPort: port,
		Username: "ordergate", Password: "s3cret", From: "ordergate@example.com", To: []string{"sales@example.com"}}
	if err := f.db.CreateDestination(context.Background(), dest); err != nil {
		t.Fatal(err)
	}
	f.importLarge(t, "big-1")
	run(t, f, alerts.Config{Timeout: 5 * time.Second, SMTPTLS: &tls.Config{RootCAs: roots}})
	waitStatus(t, f, host.DeliveryDelivered, 1)
	box.mu.Lock()
	defer box.mu.Unlock()
	if len(box.mails) != 1 {
		t.Fatalf("%d mails", len(box.mails))
	}
}

// TestEmailRefusesPlaintextWhenTLSIsMandatory: a server without STARTTLS
// gets no mail, and the delivery says why.
func TestEmailRefusesPlaintextWhenTLSIsMandatory(t *testing.T) {
	box, smtpHost, port := startSMTP(t, nil)
	f := setup(t)
	dest := &host.Destination{Name: "sales", Kind: host.DestinationEmail, SMTPHost: smtpHost, SMTPPort: port,
		From: "ordergate@example.com", To: []string{"sales@example.com"}}
	if err := f.db.CreateDestination(context.Background(), dest); err != nil {
		t.Fatal(err)
	}
	f.importLarge(t, "big-1")
	run(t, f, alerts.Config{Timeout: 5 * time.Second, MaxAttempts: 1})
	got := waitStatus(t, f, host.DeliveryFailed, 1)[0]
	box.mu.Lock()
	defer box.mu.Unlock()
	if len(box.mails) != 0 || got.LastError == "" {
		t.Errorf("%d mails sent in plain text; error %q", len(box.mails), got.LastError)
	}
}
