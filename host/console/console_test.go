package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/app"
	"github.com/ordergate/ordergate/host/console"
	"github.com/ordergate/ordergate/host/internal/e2e"
	"github.com/ordergate/ordergate/host/internal/pgtest"
	"github.com/ordergate/ordergate/host/postgres"
	"github.com/ordergate/ordergate/host/users"
)

// These tests serve a real host (app.New: the real services, policies
// and store) over HTTP on loopback, and speak to the console as a
// browser does: forms, cookies, redirects. The browser's own behaviour
// (scripts, CSP enforcement) is tested with Chromium in
// host/cmd/ordergate.

const password = "correct horse battery staple"

type testHost struct {
	t        *testing.T
	app      *app.App
	srv      *httptest.Server
	adminKey string
}

var pg struct {
	once sync.Once
	srv  *pgtest.Server
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	if pg.srv != nil {
		pg.srv.Close()
	}
	os.Exit(code)
}

// stores are the store backends each test runs on.
var stores = []struct {
	name string
	open func(t *testing.T) host.Store
}{
	{"bolt", func(t *testing.T) host.Store { return e2e.OpenStore(t) }},
	{"postgres", func(t *testing.T) host.Store {
		pg.once.Do(func() { pg.srv, pg.err = pgtest.New() })
		if pg.err != nil {
			t.Fatal(pg.err)
		}
		db, err := postgres.Open(context.Background(), pg.srv.NewDatabase(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}},
}

func onEachStore(t *testing.T, test func(t *testing.T, open func(t *testing.T) host.Store)) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) { test(t, s.open) })
	}
}

func newHost(t *testing.T, store host.Store, throttle console.ThrottleLimits) *testHost {
	t.Helper()
	ctx := context.Background()
	a, err := app.New(ctx, app.Config{Store: store, Policies: "../../policies", Plugins: t.TempDir(),
		UserOptions: []users.Option{users.WithParams(users.Params{Time: 1, Memory: 64, Threads: 1})},
		Console:     console.Config{Throttle: throttle}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	h := &testHost{t: t, app: a, srv: httptest.NewServer(a.Handler())}
	t.Cleanup(h.srv.Close)
	sys := host.WithActor(ctx, host.System)
	_, h.adminKey, err = a.Keys.Create(sys, host.RoleAdmin, "", "admin")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct{ name, role string }{{"ada", host.RoleOperator}, {"root", host.RoleAdmin}} {
		if _, err := a.Users.Create(sys, u.name, u.role, password); err != nil {
			t.Fatal(err)
		}
	}
	h.api("POST", "/api/v1/channels", map[string]any{"id": "shopify", "name": "Shopify", "kind": "b2c"}, 201)
	return h
}

// api calls the JSON API with the admin key.
func (h *testHost) api(method, path string, body any, want int) map[string]any {
	h.t.Helper()
	var r io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		r = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, h.srv.URL+path, r)
	req.Header.Set("Authorization", "Bearer "+h.adminKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		h.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, data, want)
	}
	out := map[string]any{}
	_ = json.Unmarshal(data, &out)
	return out
}

// order posts an order like #1203 (held: quantity over 4) and returns its id.
func (h *testHost) order(number, email, name string, qty int) string {
	h.t.Helper()
	o := map[string]any{"channel_id": "shopify", "external_id": "ext-" + number, "number": number, "placed_at": "2026-11-28T09:30:00Z", "currency": "USD",
		"customer":         map[string]any{"name": name, "email": email},
		"shipping_address": map[string]any{"name": name, "address1": number + " Main St", "city": "Austin", "postal_code": "78701", "country": "US"},
		"line_items":       []any{map[string]any{"sku": "V789", "title": "Valve", "quantity": qty, "unit_price": "19.99"}},
		"totals":           map[string]any{"total": "99.95"}}
	return h.api("POST", "/api/v1/orders", o, 201)["id"].(string)
}

// browser is a client with a cookie jar that does not follow redirects,
// so tests see them.
type browser struct {
	t      *testing.T
	h      *testHost
	client *http.Client
	csrf   string
}

func (h *testHost) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: h.t, h: h, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(data); m != nil {
		b.csrf = string(m[1])
	}
	return resp, string(data)
}

func (b *browser) get(path string) (*http.Response, string) {
	req, _ := http.NewRequest("GET", b.h.srv.URL+path, nil)
	return b.do(req)
}

// post posts a form as the page's own form would (with the page's CSRF
// token unless the form sets csrf), from the console's origin.
func (b *browser) post(path string, form url.Values, header ...string) (*http.Response, string) {
	if _, ok := form["csrf"]; !ok && b.csrf != "" {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.h.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.h.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

func (b *browser) signIn(username string) {
	b.t.Helper()
	resp, body := b.post("/login", url.Values{"username": {username}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		b.t.Fatalf("sign-in of %s: %d %s", username, resp.StatusCode, body)
	}
	b.get("/") // the page's CSRF token
}

func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == "ordergate_session" {
			return c
		}
	}
	return nil
}

// TestSignIn: signed out, pages redirect to /login; a wrong password is
// an error on the page; the right one opens a session whose cookie is
// HttpOnly and SameSite=Strict; a token planted before sign-in never
// becomes the session (fixation); sign-out ends the session on the
// server, so a copy of the old cookie no longer works.
func TestSignIn(t *testing.T) {
	onEachStore(t, func(t *testing.T, open func(t *testing.T) host.Store) {
		h := newHost(t, open(t), console.ThrottleLimits{})
		b := h.browser()
		if resp, _ := b.get("/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Fatalf("signed out, / answers %d to %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := b.get("/?reason=custom_rule"); resp.Header.Get("Location") != "/login?next=%2F%3Freason%3Dcustom_rule" {
			t.Fatalf("a filtered queue redirects to %q, want the login with next", resp.Header.Get("Location"))
		}
		resp, body := b.post("/login", url.Values{"username": {"ada"}, "password": {"not the password"}})
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "The username or password is not right.") || sessionCookie(resp) != nil {
			t.Fatalf("a wrong password: %d, cookie %v, page:\n%s", resp.StatusCode, sessionCookie(resp), body)
		}

		u, _ := url.Parse(h.srv.URL)
		b.client.Jar.SetCookies(u, []*http.Cookie{{Name: "ordergate_session", Value: "planted-by-an-attacker", Path: "/"}})
		resp, _ = b.post("/login", url.Values{"username": {"ada"}, "password": {password}, "next": {"/channels"}})
		c := sessionCookie(resp)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/channels" || c == nil {
			t.Fatalf("sign-in: %d to %q, cookie %v", resp.StatusCode, resp.Header.Get("Location"), c)
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || c.Value == "planted-by-an-attacker" || c.MaxAge <= 0 {
			t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, not Secure on plain HTTP, a fresh value, an expiry", c)
		}
		if _, _, err := h.app.Users.Resolve(context.Background(), "planted-by-an-attacker"); host.ErrorCode(err) != host.EUNAUTHORIZED {
			t.Fatalf("the planted token resolves: %v", err)
		}
		resp, body = b.get("/")
		if resp.StatusCode != 200 || !strings.Contains(body, "ada (operator)") {
			t.Fatalf("signed in, / is %d:\n%s", resp.StatusCode, body)
		}
		// A next that leaves the host is not followed.
		for _, next := range []string{"https://evil.example/", "//evil.example/", "/\\evil.example"} {
			resp, _ = b.post("/login", url.Values{"username": {"ada"}, "password": {password}, "next": {next}})
			if loc := resp.Header.Get("Location"); loc != "/" {
				t.Errorf("next %q redirects to %q, want /", next, loc)
			}
		}
		b.get("/")

		old := sessionCookie(resp)
		if resp, _ := b.post("/logout", url.Values{}); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		replay := h.browser()
		replay.client.Jar.SetCookies(u, []*http.Cookie{old})
		if resp, _ := replay.get("/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Fatalf("the signed-out cookie still opens the queue: %d", resp.StatusCode)
		}
	})
}

// TestSignInThrottled: past the failures allowed for a username, or for
// an address, sign-in answers 429 "try again later", even with the right
// password, until the lockout ends.
func TestSignInThrottled(t *testing.T) {
	h := newHost(t, e2e.OpenStore(t), console.ThrottleLimits{Failures: 3, Window: time.Minute, Lockout: time.Hour})
	b := h.browser()
	for i := range 3 {
		if resp, _ := b.post("/login", url.Values{"username": {"ada"}, "password": {fmt.Sprint("guess ", i)}}); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401", i, resp.StatusCode)
		}
	}
	resp, body := b.post("/login", url.Values{"username": {"ada"}, "password": {password}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "Try again later") || sessionCookie(resp) != nil {
		t.Fatalf("after 3 failures: %d Retry-After %q, cookie %v:\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), sessionCookie(resp), body)
	}
	// The address is locked out too: another user from it is refused.
	if resp, _ := b.post("/login", url.Values{"username": {"root"}, "password": {password}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("another user from the same address: %d, want 429", resp.StatusCode)
	}
}

// TestFormsRefusedFromElsewhere: a state-changing request is refused
// without the session's CSRF token, or from another origin (even of the
// same site), and nothing changes.
func TestFormsRefusedFromElsewhere(t *testing.T) {
	h := newHost(t, e2e.OpenStore(t), console.ThrottleLimits{})
	id := h.order("#1203", "ada@example.com", "Ada Lovelace", 5)
	b := h.browser()
	b.signIn("ada")
	for name, tc := range map[string]struct {
		form   url.Values
		header []string
	}{
		"no token":        {url.Values{"csrf": {""}}, nil},
		"wrong token":     {url.Values{"csrf": {"x" + b.csrf}}, nil},
		"same site":       {url.Values{}, []string{"Sec-Fetch-Site", "same-site"}},
		"cross site":      {url.Values{}, []string{"Sec-Fetch-Site", "cross-site"}},
		"other origin":    {url.Values{}, []string{"Sec-Fetch-Site", "", "Origin", "http://evil.example"}},
		"sibling sub-dom": {url.Values{}, []string{"Sec-Fetch-Site", "", "Origin", "http://shop." + strings.TrimPrefix(h.srv.URL, "http://")}},
	} {
		t.Run(name, func(t *testing.T) {
			tc.form.Set("note", "approved")
			if resp, _ := b.post("/orders/"+id+"/release", tc.form, tc.header...); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("release: %d, want 403", resp.StatusCode)
			}
		})
	}
	if got := h.api("GET", "/api/v1/orders/"+id, nil, 200)["status"]; got != "on_hold" {
		t.Fatalf("a refused form changed the order: %v", got)
	}
	resp, _ := b.post("/orders/"+id+"/release", url.Values{"note": {"checked with the customer"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the page's own form: %d", resp.StatusCode)
	}
	o := h.api("GET", "/api/v1/orders/"+id, nil, 200)
	events, _ := json.Marshal(o["events"])
	if o["status"] != "open" || !strings.Contains(string(events), `"actor":"user:ada"`) || !strings.Contains(string(events), "checked with the customer") {
		t.Fatalf("released: %v, timeline %s", o["status"], events)
	}
}

// TestRoles: an operator works the queue but gets the 403 page on admin
// pages; an admin sees users and keys without any secret; a reseller's
// key cannot sign in; an operator's key can.
func TestRoles(t *testing.T) {
	onEachStore(t, func(t *testing.T, open func(t *testing.T) host.Store) {
		h := newHost(t, open(t), console.ThrottleLimits{})
		op := h.browser()
		op.signIn("ada")
		for _, path := range []string{"/", "/channels", "/alerts", "/workflow"} {
			if resp, _ := op.get(path); resp.StatusCode != 200 {
				t.Errorf("operator %s: %d", path, resp.StatusCode)
			}
		}
		if resp, body := op.get("/users"); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "This page is for administrators") {
			t.Fatalf("operator /users: %d\n%s", resp.StatusCode, body)
		}
		admin := h.browser()
		admin.signIn("root")
		resp, body := admin.get("/users")
		if resp.StatusCode != 200 || !strings.Contains(body, "ada") || !strings.Contains(body, "admin") {
			t.Fatalf("admin /users: %d\n%s", resp.StatusCode, body)
		}
		stored, _ := h.app.Store.User(context.Background(), "ada")
		if strings.Contains(body, "argon2id") || strings.Contains(body, stored.PasswordHash) || strings.Contains(body, h.adminKey) || strings.Contains(body, host.HashKey(h.adminKey)) {
			t.Fatal("the users page shows a password hash or a key's secret or hash")
		}

		reseller := h.api("POST", "/api/v1/keys", map[string]any{"role": "reseller", "channel_id": "acme"}, 201)["secret"].(string)
		operatorKey := h.api("POST", "/api/v1/keys", map[string]any{"role": "operator"}, 201)["secret"].(string)
		b := h.browser()
		resp, body = b.post("/login", url.Values{"key": {reseller}})
		if resp.StatusCode != http.StatusUnauthorized || sessionCookie(resp) != nil || !strings.Contains(body, "cannot sign in") {
			t.Fatalf("a reseller key signing in: %d %v\n%s", resp.StatusCode, sessionCookie(resp), body)
		}
		resp, _ = b.post("/login", url.Values{"key": {operatorKey}})
		if resp.StatusCode != http.StatusSeeOther || sessionCookie(resp) == nil {
			t.Fatalf("an operator key signing in: %d", resp.StatusCode)
		}
		if _, body := b.get("/"); strings.Contains(body, operatorKey) {
			t.Fatal("the page shows the key's secret")
		}
	})
}

// TestSecurityHeaders: every response of the console, pages, errors and
// assets, carries the Content-Security-Policy, whose script-src allows
// no inline script.
func TestSecurityHeaders(t *testing.T) {
	h := newHost(t, e2e.OpenStore(t), console.ThrottleLimits{})
	b := h.browser()
	check := func(path string, resp *http.Response) {
		t.Helper()
		csp := resp.Header.Get("Content-Security-Policy")
		var script string
		for _, d := range strings.Split(csp, ";") {
			if f := strings.Fields(d); len(f) > 0 && f[0] == "script-src" {
				script = d
			}
		}
		if script == "" || strings.Contains(script, "unsafe-inline") || strings.Contains(script, "unsafe-eval") || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: CSP %q, X-Frame-Options %q", path, csp, resp.Header.Get("X-Frame-Options"))
		}
	}
	for _, path := range []string{"/login", "/", "/nope", "/assets/console.js", "/assets/console.css"} {
		resp, _ := b.get(path)
		check(path, resp)
	}
	b.signIn("ada")
	for _, path := range []string{"/", "/orders/nope", "/channels", "/alerts", "/workflow", "/users", "/nope"} {
		resp, body := b.get(path)
		check(path, resp)
		if strings.Contains(body, "<script>") || regexp.MustCompile(`\son[a-z]+=`).MatchString(body) || strings.Contains(body, "style=") {
			t.Errorf("%s has inline script, an event handler attribute or inline style", path)
		}
	}
	// The API's own paths still answer problems, not pages.
	resp, body := b.get("/api/v1/nope")
	if resp.StatusCode != 404 || !strings.Contains(resp.Header.Get("Content-Type"), "problem+json") {
		t.Fatalf("/api/v1/nope: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

var rowLink = regexp.MustCompile(`class="order-link">([^<]+)</a>`)

func rows(body string) []string {
	var out []string
	for _, m := range rowLink.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestQueue: counts per reason from the store's counters, the filters and
// the search, oldest hold first, and pages whose links keep the filter.
func TestQueue(t *testing.T) {
	onEachStore(t, func(t *testing.T, open func(t *testing.T) host.Store) {
		h := newHost(t, open(t), console.ThrottleLimits{})
		for i := range console.QueuePageSize + 2 {
			h.order(fmt.Sprintf("#%d", 2000+i), fmt.Sprintf("c%d@example.com", i), fmt.Sprintf("Customer %d", i), 5)
		}
		h.order("#1203", "ada@example.com", "Ada Lovelace", 5)
		h.order("#1300", "bob@example.com", "Bob Open", 1) // open: not in the queue
		b := h.browser()
		b.signIn("ada")
		_, body := b.get("/")
		want := fmt.Sprint(console.QueuePageSize + 3)
		if !strings.Contains(body, `data-count="on_hold">`+want+`<`) || !strings.Contains(body, `data-count="custom_rule">`+want+`<`) {
			t.Fatalf("counts: want %s on hold and held for custom_rule:\n%s", want, body)
		}
		first := rows(body)
		if len(first) != console.QueuePageSize || first[0] != "#2000" {
			t.Fatalf("first page: %v, want %d rows, oldest hold first", first, console.QueuePageSize)
		}
		next := regexp.MustCompile(`href="([^"]+)" id="next-page"`).FindStringSubmatch(body)
		if next == nil {
			t.Fatal("no next page link")
		}
		_, body = b.get(strings.ReplaceAll(next[1], "&amp;", "&"))
		if got := rows(body); len(got) != 3 || got[2] != "#1203" {
			t.Fatalf("second page: %v", got)
		}

		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"q=%231203", []string{"#1203"}},
			{"q=1203", []string{"#1203"}},
			{"q=ADA%40example.com", []string{"#1203"}},
			{"q=ada++lovelace", []string{"#1203"}},
			{"q=%231300", nil},
			{"reason=duplicate_order", nil},
			{"reason=custom_rule&q=c1%40example.com", []string{"#2001"}},
			{"channel=shopify&tag=Review+Needed&q=%232002", []string{"#2002"}},
			{"age=168h", nil},
		} {
			resp, body := b.get("/?" + tc.query)
			if got := rows(body); resp.StatusCode != 200 || fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("/?%s: %d %v, want %v", tc.query, resp.StatusCode, got, tc.want)
			}
			if tc.want == nil && !strings.Contains(body, `id="queue-empty"`) {
				t.Errorf("/?%s: no empty state", tc.query)
			}
		}
		// A page link of a filtered view keeps its filter.
		_, body = b.get("/?reason=custom_rule")
		if next := regexp.MustCompile(`href="([^"]+)" id="next-page"`).FindStringSubmatch(body); next == nil || !strings.Contains(next[1], "reason=custom_rule") {
			t.Fatalf("the next page of a filtered queue: %v", next)
		}
		for _, bad := range []string{"reason=nonsense", "age=soon"} {
			if resp, body := b.get("/?" + bad); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, strings.Split(bad, "=")[0]+":") {
				t.Errorf("/?%s: %d, want 422 naming the parameter", bad, resp.StatusCode)
			}
		}
		// The script's counts.
		resp, body := b.get("/counts")
		var counts struct {
			OnHold   int64            `json:"on_hold"`
			ByReason map[string]int64 `json:"by_reason"`
		}
		if err := json.Unmarshal([]byte(body), &counts); err != nil || resp.StatusCode != 200 || fmt.Sprint(counts.OnHold) != want {
			t.Fatalf("/counts: %d %s", resp.StatusCode, body)
		}
	})
}

// TestBulk: a bulk action needs a note, shows its dry run ("this will
// release 2 orders") and changes nothing until confirmed; confirmed, it
// acts with the note on each timeline.
func TestBulk(t *testing.T) {
	onEachStore(t, func(t *testing.T, open func(t *testing.T) host.Store) {
		h := newHost(t, open(t), console.ThrottleLimits{})
		a, c, d := h.order("#1", "a@example.com", "A", 5), h.order("#2", "b@example.com", "B", 5), h.order("#3", "c@example.com", "C", 5)
		b := h.browser()
		b.signIn("ada")
		if resp, body := b.post("/bulk", url.Values{"action": {"release"}, "id": {a, c}}); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "note:") {
			t.Fatalf("without a note: %d\n%s", resp.StatusCode, body)
		}
		resp, body := b.post("/bulk", url.Values{"action": {"release"}, "id": {a, c}, "note": {"stock checked"}, "scope": {"selected"}})
		if resp.StatusCode != 200 || !strings.Contains(body, "This will release 2 orders") {
			t.Fatalf("dry run: %d\n%s", resp.StatusCode, body)
		}
		if got := h.api("GET", "/api/v1/orders/"+a, nil, 200)["status"]; got != "on_hold" {
			t.Fatalf("the dry run released: %v", got)
		}
		resp, body = b.post("/bulk", url.Values{"action": {"release"}, "id": {a, c}, "note": {"stock checked"}, "scope": {"selected"}, "confirm": {"yes"}})
		if resp.StatusCode != 200 || !strings.Contains(body, "Did release 2 orders") {
			t.Fatalf("confirmed: %d\n%s", resp.StatusCode, body)
		}
		for id, want := range map[string]string{a: "open", c: "open", d: "on_hold"} {
			o := h.api("GET", "/api/v1/orders/"+id, nil, 200)
			events, _ := json.Marshal(o["events"])
			if o["status"] != want || (want == "open") != strings.Contains(string(events), "stock checked") {
				t.Errorf("order %s: %v, timeline %s", id, o["status"], events)
			}
		}
		// Every order of a filter: the dry run counts what it selects.
		resp, body = b.post("/bulk", url.Values{"action": {"reevaluate"}, "scope": {"filter"}, "reason": {"custom_rule"}, "note": {"rules fixed"}})
		if resp.StatusCode != 200 || !strings.Contains(body, "This will re-evaluate 1 order") {
			t.Fatalf("filter dry run: %d\n%s", resp.StatusCode, body)
		}
		resp, body = b.post("/bulk", url.Values{"action": {"cancel"}, "scope": {"filter"}, "reason": {"custom_rule"}, "note": {"fraud"}, "confirm": {"yes"}})
		if resp.StatusCode != 200 || !strings.Contains(body, "Did cancel 1 order") {
			t.Fatalf("filter cancel: %d\n%s", resp.StatusCode, body)
		}
		if got := h.api("GET", "/api/v1/orders/"+d, nil, 200)["status"]; got != "canceled" {
			t.Fatalf("the filtered cancel: %v", got)
		}
	})
}

// hostile are strings that would run script if a page put them in HTML
// unescaped.
var hostile = []string{`<script>window.__pwned=1</script>`, `"><img src=x onerror="window.__pwned=1">`, `javascript:window.__pwned=1`, `'-alert(1)-'`}

// TestHostileDataEscaped: order fields are strangers' text; on every
// page that shows them they come out escaped (the browser test checks
// that nothing runs).
func TestHostileDataEscaped(t *testing.T) {
	h := newHost(t, e2e.OpenStore(t), console.ThrottleLimits{})
	var ids []string
	for i, p := range hostile {
		o := map[string]any{"channel_id": "shopify", "external_id": fmt.Sprint("x", i), "number": p, "placed_at": "2026-11-28T09:30:00Z", "currency": "USD",
			"customer":         map[string]any{"name": p, "email": "a@example.com", "phone": p},
			"shipping_address": map[string]any{"name": p, "company": p, "address1": p, "city": p, "region": p, "postal_code": "1", "country": "US"},
			"shipping_method":  p, "note": p, "tags": []string{p}, "custom_fields": map[string]string{"k": p},
			"line_items": []any{map[string]any{"sku": p, "title": p, "quantity": 5, "unit_price": "1"}}, "totals": map[string]any{"total": "5"}}
		ids = append(ids, h.api("POST", "/api/v1/orders", o, 201)["id"].(string))
	}
	b := h.browser()
	b.signIn("ada")
	pages := []string{"/", "/?q=" + url.QueryEscape(hostile[0]), "/?tag=" + url.QueryEscape(hostile[1])}
	for _, id := range ids {
		pages = append(pages, "/orders/"+id, "/workflow?order="+id)
	}
	for _, path := range pages {
		resp, body := b.get(path)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		for _, bad := range []string{"<script>window", "<img src=x", `href="javascript:`} {
			if strings.Contains(body, bad) {
				t.Errorf("%s renders %q unescaped", path, bad)
			}
		}
	}
	_, body := b.get("/orders/" + ids[0])
	if !strings.Contains(body, "&lt;script&gt;window.__pwned=1&lt;/script&gt;") {
		t.Error("the order page does not show the hostile text, escaped")
	}
}

// TestOrderPage: an order held for insufficient quantity shows the hold
// with its rule, package and message and the stock per source behind it;
// the decision per package with its revision; the timeline with actors;
// and the actions, which act as the signed-in user. Uploading stock
// clears the hold and the queue's count drops.
func TestOrderPage(t *testing.T) {
	onEachStore(t, func(t *testing.T, open func(t *testing.T) host.Store) {
		h := newHost(t, open(t), console.ThrottleLimits{})
		h.api("POST", "/api/v1/catalog", map[string]any{"items": []any{map[string]any{"sku": "V789", "title": "Valve"}}}, 200)
		h.api("POST", "/api/v1/sources", map[string]any{"id": "austin", "name": "Austin DC"}, 201)
		h.api("POST", "/api/v1/routing-groups", map[string]any{"id": "all", "name": "All", "default": true, "sources": []any{map[string]any{"source_id": "austin"}}}, 201)
		h.api("POST", "/api/v1/inventory", map[string]any{"levels": []any{map[string]any{"source_id": "austin", "sku": "V789", "available": 2}}}, 200)
		id := h.order("#1203", "ada@example.com", "Ada Lovelace", 5)
		b := h.browser()
		b.signIn("ada")
		_, body := b.get("/")
		if !strings.Contains(body, `data-count="insufficient_quantity">1<`) {
			t.Fatalf("the queue does not count the insufficient quantity hold:\n%s", body)
		}
		resp, body := b.get("/orders/" + id)
		for _, want := range []string{"Insufficient quantity", "Custom rule · rule hold_large_quantity", "package review", "Austin DC: 2",
			`class="available" data-sku="V789">2<`, "Review Needed", "Valve", "Ada Lovelace", "78701", "The last decision", "revision <code",
			"imported</strong> by <span class=\"actor\">channel:shopify", `action="/orders/` + id + `/release"`} {
			if !strings.Contains(body, want) {
				t.Errorf("the order page lacks %q", want)
			}
		}
		if resp.StatusCode != 200 || t.Failed() {
			t.Fatalf("order page %d:\n%s", resp.StatusCode, body)
		}
		if resp, _ := b.get("/orders/nope"); resp.StatusCode != 404 {
			t.Fatalf("an unknown order: %d", resp.StatusCode)
		}

		resp, _ = b.post("/orders/"+id+"/edit", url.Values{"add_tags": {"Called, Priority"}, "edit_note": {"customer called"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("edit: %d", resp.StatusCode)
		}
		if resp, body := b.post("/orders/"+id+"/edit", url.Values{"shipping_method": {strings.Repeat("x", 5000)}}); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "fields.shipping_method") {
			t.Fatalf("a bad edit: %d\n%s", resp.StatusCode, body)
		}
		h.api("POST", "/api/v1/inventory", map[string]any{"levels": []any{map[string]any{"source_id": "austin", "sku": "V789", "available": 50}}}, 200)
		_, body = b.get("/")
		if !strings.Contains(body, `data-count="insufficient_quantity">0<`) {
			t.Fatal("the count did not drop once stock came")
		}
		if resp, _ := b.post("/orders/"+id+"/release", url.Values{}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("release: %d", resp.StatusCode)
		}
		_, body = b.get("/orders/" + id)
		for _, want := range []string{`id="order-status">open<`, "Priority", "released</strong> by <span class=\"actor\">user:ada", "edited</strong> by <span class=\"actor\">user:ada"} {
			if !strings.Contains(body, want) {
				t.Errorf("after the edit and release the page lacks %q", want)
			}
		}
		if resp, body := b.post("/orders/"+id+"/cancel", url.Values{}); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "note:") {
			t.Fatalf("a cancel without a reason: %d", resp.StatusCode)
		}
	})
}

// TestWorkflowAndOtherPages: the workflow page shows the revision in
// force and dry-runs a stored or a pasted order with nothing stored; the
// channels and alerts pages render their empty and filled states.
func TestWorkflowAndOtherPages(t *testing.T) {
	h := newHost(t, e2e.OpenStore(t), console.ThrottleLimits{})
	id := h.order("#1203", "ada@example.com", "Ada Lovelace", 5)
	b := h.browser()
	b.signIn("ada")
	_, body := b.get("/workflow")
	rev := h.app.Engine.Revision()
	if !strings.Contains(body, rev.ID[:12]) || !strings.Contains(body, "review") {
		t.Fatalf("the workflow page lacks the revision or its packages:\n%s", body)
	}
	resp, body := b.post("/workflow/evaluate", url.Values{"order_id": {id}})
	if resp.StatusCode != 200 || !strings.Contains(body, `id="dry-run-result"`) || !strings.Contains(body, "tag: Review Needed") || !strings.Contains(body, "on_hold") {
		t.Fatalf("dry run of a stored order: %d\n%s", resp.StatusCode, body)
	}
	pasted := `{"external_id": "x", "number": "#9", "placed_at": "2026-11-28T09:30:00Z", "currency": "USD", "shipping_address": {"country": "US"},
		"line_items": [{"sku": "V789", "quantity": 1, "unit_price": "1"}], "totals": {"total": "1"}}`
	resp, body = b.post("/workflow/evaluate", url.Values{"order": {pasted}})
	if resp.StatusCode != 200 || !strings.Contains(body, "It would be <span class=\"status status-open\">open") {
		t.Fatalf("dry run of a pasted order: %d\n%s", resp.StatusCode, body)
	}
	for form, field := range map[string]string{`{"nope": 1}`: "order: is not an order", `{"external_id": ""}`: "order.", "": "order_id: give"} {
		if resp, body := b.post("/workflow/evaluate", url.Values{"order": {form}}); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, field) {
			t.Errorf("dry run of %q: %d, want 422 naming %q", form, resp.StatusCode, field)
		}
	}
	if list, _, _ := h.app.Store.ListOrders(context.Background(), host.OrderFilter{}); len(list) != 1 {
		t.Fatalf("dry runs stored orders: %d", len(list))
	}
	_, body = b.get("/channels")
	if !strings.Contains(body, "Shopify") || !strings.Contains(body, "No import run yet.") {
		t.Fatalf("channels page:\n%s", body)
	}
	_, body = b.get("/alerts")
	if !strings.Contains(body, "Every alert and event has been delivered.") {
		t.Fatalf("alerts page:\n%s", body)
	}
}
