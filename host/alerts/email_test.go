package alerts_test

import (
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/alerts"
)

// mailbox is a real SMTP server in the test process that keeps what it
// receives.
type mailbox struct {
	mu    sync.Mutex
	mails []mail
}

type mail struct {
	from string
	to   []string
	data string
}

type session struct {
	box *mailbox
	m   mail
}

func (s *session) Reset()        { s.m = mail{} }
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
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

func startSMTP(t *testing.T) (*mailbox, string, int) {
	t.Helper()
	box := &mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{box: box}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
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
	box, smtpHost, port := startSMTP(t)
	f := setup(t)
	dest := &host.Destination{Name: "sales", Kind: host.DestinationEmail, SMTPHost: smtpHost, SMTPPort: port, TLS: "none",
		From: "ordergate@example.com", To: []string{"sales@example.com", "boss@example.com"}}
	if errs := dest.Validate(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if err := f.db.PutDestination(context.Background(), dest); err != nil {
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
