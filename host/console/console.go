// Package console is the operator console: the HTML pages, served by the
// host at /, with which operations staff work the hold queue in a browser.
//
// The pages are rendered on the server with html/template, whose
// contextual escaping is what keeps order data (sent by strangers) inert,
// and every form works without JavaScript. One small script of our own
// (assets/console.js, no library) adds what a page needs live: counts
// that refresh, select-all, an import's progress. There is no build step
// and nothing to fetch: the assets are embedded, so the binary is the
// whole deployment, and the Content-Security-Policy allows scripts and
// styles from the host only, never inline.
//
// Every change goes through the services (host/orders, host/users), with
// the signed-in person as the actor, so the console enforces the same
// roles as the API.
package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/importer"
	"github.com/ordergate/ordergate/host/orders"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/host/users"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// Config is what the console is built from.
type Config struct {
	Store  host.Store
	Orders *orders.Service
	Users  *users.Service
	Engine *policy.Engine
	// Importer serves b2c channels; nil on a host that runs no connectors.
	Importer *importer.Importer
	// Notify wakes the alert dispatcher after a redelivery; may be nil.
	Notify func()
	Log    hclog.Logger
	Now    func() time.Time
	// SecureCookies marks the session cookie Secure even when the
	// request did not come over TLS (a TLS-terminating proxy in front).
	SecureCookies bool
	// Throttle bounds failed sign-ins (DefaultThrottle when zero).
	Throttle ThrottleLimits
}

// Console serves the pages.
type Console struct {
	cfg      Config
	log      hclog.Logger
	pages    map[string]*template.Template
	mux      *http.ServeMux
	throttle *throttle
	cross    *http.CrossOriginProtection
}

// ContentSecurityPolicy is sent with every response of the console:
// scripts, styles, images and fetches from the host only (no inline
// script or style, no eval), forms posted only to the host, and no
// framing.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// New builds the console.
func New(cfg Config) (*Console, error) {
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	if cfg.Throttle == (ThrottleLimits{}) {
		cfg.Throttle = DefaultThrottle
	}
	c := &Console{cfg: cfg, log: cfg.Log.Named("console"), pages: map[string]*template.Template{},
		throttle: newThrottle(cfg.Throttle, cfg.Now), cross: http.NewCrossOriginProtection()}
	// A form posted from another origin, even of the same site, is
	// refused (Sec-Fetch-Site, or Origin against Host).
	c.cross.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.renderError(w, r, nil, http.StatusForbidden, "This form was posted from another site; it was refused.")
	}))
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("parsing the console's layout: %w", err)
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")
		if base == "layout" || base == "partials" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFiles, name)
		if err != nil {
			return nil, fmt.Errorf("parsing the console's page %s: %w", base, err)
		}
		c.pages[base] = t
	}
	c.mux = c.routes()
	return c, nil
}

// ServeHTTP serves the console with its security headers on every
// response.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.cross.Handler(c.mux).ServeHTTP(w, r)
}

// page is a route's handler, given the signed-in session.
type page func(w http.ResponseWriter, r *http.Request, s *session)

// session is the signed-in person of a request.
type session struct {
	*host.Session
	actor *host.APIKey
	token string
}

// Who names the person for the page header.
func (s *session) Who() string {
	if s.Username != "" {
		return s.Username
	}
	if s.actor.Name != "" {
		return "key " + s.actor.Name
	}
	return "key " + s.actor.ID
}

// Role is the actor's role.
func (s *session) Role() string { return s.actor.Role }

// IsAdmin reports whether the person may reach the admin pages.
func (s *session) IsAdmin() bool { return s.actor.Role == host.RoleAdmin }

func (c *Console) routes() *http.ServeMux {
	mux := http.NewServeMux()
	assets, _ := fs.Sub(assetFiles, "assets")
	files := http.StripPrefix("/assets/", http.FileServerFS(assets))
	mux.Handle("GET /assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET /login", c.loginPage)
	mux.HandleFunc("POST /login", c.login)
	mux.HandleFunc("POST /logout", c.logout)
	for _, rt := range []struct {
		pattern string
		role    string
		handler page
	}{
		{"GET /{$}", host.RoleOperator, c.queuePage},
		{"GET /counts", host.RoleOperator, c.countsJSON},
		{"POST /bulk", host.RoleOperator, c.bulk},
		{"GET /orders/{id}", host.RoleOperator, c.orderPage},
		{"POST /orders/{id}/release", host.RoleOperator, c.releaseOrder},
		{"POST /orders/{id}/cancel", host.RoleOperator, c.cancelOrder},
		{"POST /orders/{id}/reevaluate", host.RoleOperator, c.reevaluateOrder},
		{"POST /orders/{id}/edit", host.RoleOperator, c.editOrder},
		{"GET /channels", host.RoleOperator, c.channelsPage},
		{"GET /channels/progress", host.RoleOperator, c.channelsProgress},
		{"POST /channels/{id}/import", host.RoleOperator, c.importChannel},
		{"POST /channels/{id}/test", host.RoleOperator, c.testChannel},
		{"GET /alerts", host.RoleOperator, c.alertsPage},
		{"POST /alerts/redeliver", host.RoleOperator, c.redeliverAlerts},
		{"POST /alerts/{id}/redeliver", host.RoleOperator, c.redeliverAlert},
		{"GET /workflow", host.RoleOperator, c.workflowPage},
		{"POST /workflow/evaluate", host.RoleOperator, c.evaluate},
		{"GET /users", host.RoleAdmin, c.usersPage},
	} {
		mux.Handle(rt.pattern, c.signedIn(rt.role, rt.handler))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s, _ := c.resolve(r)
		c.renderError(w, r, s, http.StatusNotFound, "There is no page at "+r.URL.Path+".")
	})
	return mux
}

const sessionCookie = "ordergate_session"

// resolve returns the request's session, or nil.
func (c *Console) resolve(r *http.Request) (*session, error) {
	cookie, err := r.Cookie(sessionCookie)
	if err != nil || cookie.Value == "" {
		return nil, nil
	}
	sess, actor, err := c.cfg.Users.Resolve(r.Context(), cookie.Value)
	if err != nil {
		if host.ErrorCode(err) == host.EUNAUTHORIZED {
			return nil, nil
		}
		return nil, err
	}
	return &session{Session: sess, actor: actor, token: cookie.Value}, nil
}

// signedIn serves a page to a signed-in person of the role: signed out,
// a page redirects to /login (and a POST or a script's fetch is 401); of
// another role, 403. A POST must carry the session's CSRF token.
func (c *Console) signedIn(role string, p page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := c.resolve(r)
		if err != nil {
			c.fail(w, r, nil, err)
			return
		}
		if s == nil {
			if r.Method == http.MethodGet && r.Header.Get("Accept") != "application/json" {
				next := "/login"
				if r.URL.RequestURI() != "/" {
					next += "?next=" + url.QueryEscape(r.URL.RequestURI())
				}
				http.Redirect(w, r, next, http.StatusSeeOther)
				return
			}
			c.renderError(w, r, nil, http.StatusUnauthorized, "You are signed out. Sign in again.")
			return
		}
		if !s.actor.MayUse(role) {
			c.renderError(w, r, s, http.StatusForbidden, "This page is for administrators; your role is "+s.actor.Role+".")
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			if !host.SameHash(r.PostFormValue("csrf"), s.CSRF) {
				c.renderError(w, r, s, http.StatusForbidden, "This form's security token is missing or old: reload the page and try again.")
				return
			}
		}
		ctx := host.WithActor(r.Context(), s.actor)
		p(w, r.WithContext(ctx), s)
	})
}

// view is what every page template is given.
type view struct {
	Title   string
	Nav     string
	Session *session
	Now     time.Time
	Data    any
}

// render writes a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, s *session, status int, name, title string, data any) {
	t := c.pages[name]
	if t == nil {
		c.log.Error("no console template", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "layout.html", view{Title: title, Nav: name, Session: s, Now: c.cfg.Now(), Data: data}); err != nil {
		c.log.Error("rendering a console page", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

// errorView is the error page's data.
type errorView struct {
	Status  int
	Message string
	Fields  []string
}

func (c *Console) renderError(w http.ResponseWriter, r *http.Request, s *session, status int, message string, fields ...string) {
	c.render(w, r, s, status, "error", http.StatusText(status), errorView{Status: status, Message: message, Fields: fields})
}

// fail renders the error of a service: a domain error with its status
// and message (and the fields it names), anything else as a 500 whose
// detail goes to the log only.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	var he *host.Error
	if errors.As(err, &he) && he.Code != host.EINTERNAL {
		var fields []string
		for _, f := range he.Fields {
			fields = append(fields, f.Field+": "+f.Detail)
		}
		c.renderError(w, r, s, host.HTTPStatus(he.Code), he.Message, fields...)
		return
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	c.log.Error("serving a console page", "path", r.URL.Path, "error", err)
	c.renderError(w, r, s, http.StatusInternalServerError, "Something went wrong on the host; the log says what.")
}
