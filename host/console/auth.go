package console

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ordergate/ordergate/host"
)

// loginView is the sign-in page's data.
type loginView struct {
	Username string
	Next     string
	Error    string
	// KeyForm is true when the error came from the API key form.
	KeyForm bool
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if s, _ := c.resolve(r); s != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	c.render(w, r, nil, http.StatusOK, "login", "Sign in", loginView{Next: safeNext(r.URL.Query().Get("next"))})
}

// safeNext is where to go after signing in: a path of this host only, so
// the login page cannot be used to send someone elsewhere.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

// login signs a person in with a username and password, or with an API
// key (the form's "key" field). Failures are throttled per username and
// per client address: past the limit the answer is 429 with Retry-After,
// whatever the password.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		c.renderError(w, r, nil, http.StatusBadRequest, "The sign-in form could not be read.")
		return
	}
	username := strings.ToLower(strings.TrimSpace(r.PostForm.Get("username")))
	password, key := r.PostForm.Get("password"), strings.TrimSpace(r.PostForm.Get("key"))
	v := loginView{Username: username, Next: safeNext(r.PostForm.Get("next")), KeyForm: key != ""}
	addr := clientAddr(r)
	subjects := []string{"addr:" + addr}
	if key == "" {
		subjects = append(subjects, "user:"+username)
	}
	if wait := c.throttle.blocked(subjects...); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		v.Error = "Too many failed sign-ins. Try again later (in " + wait.Round(time.Second).String() + ")."
		c.render(w, r, nil, http.StatusTooManyRequests, "login", "Sign in", v)
		return
	}
	var sess *host.Session
	var token string
	var err error
	switch {
	case key != "":
		sess, token, err = c.cfg.Users.SignInWithKey(r.Context(), key)
	case username == "" || password == "":
		v.Error = "Enter your username and password."
		c.render(w, r, nil, http.StatusUnprocessableEntity, "login", "Sign in", v)
		return
	default:
		sess, token, err = c.cfg.Users.SignIn(r.Context(), username, password)
	}
	if err != nil {
		switch host.ErrorCode(err) {
		case host.EUNAUTHORIZED, host.EFORBIDDEN:
			c.throttle.failed(subjects...)
			c.log.Info("failed sign-in", "username", username, "with_key", key != "", "remote", addr)
			v.Error = "The username or password is not right."
			if key != "" {
				v.Error = "That API key cannot sign in: it is unknown, revoked, or not an operator or admin key."
			}
			c.render(w, r, nil, http.StatusUnauthorized, "login", "Sign in", v)
		default:
			c.fail(w, r, nil, err)
		}
		return
	}
	c.throttle.succeeded(subjects...)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", Expires: sess.ExpiresAt,
		MaxAge: int(c.cfg.Users.SessionTTL().Seconds()), HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.cfg.SecureCookies || r.TLS != nil})
	http.Redirect(w, r, v.Next, http.StatusSeeOther)
}

// logout ends the session on the server, so the cookie stops working
// wherever a copy of it is, and clears it in the browser.
func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	s, err := c.resolve(r)
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	if s != nil {
		if !host.SameHash(r.PostFormValue("csrf"), s.CSRF) {
			c.renderError(w, r, s, http.StatusForbidden, "This form's security token is missing or old: reload the page and try again.")
			return
		}
		if err := c.cfg.Users.SignOut(r.Context(), s.token); err != nil {
			c.fail(w, r, s, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.cfg.SecureCookies || r.TLS != nil})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// clientAddr is the request's remote address without the port. The
// console does not trust X-Forwarded-For: behind a proxy every client
// shares the proxy's budget, which errs on the side of refusing.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ThrottleLimits bound failed sign-ins: after Failures failures of one
// username or one address within Window, sign-ins of it are refused for
// Lockout.
type ThrottleLimits struct {
	Failures int
	Window   time.Duration
	Lockout  time.Duration
}

// DefaultThrottle allows 5 failures in 15 minutes, then locks out for 15
// minutes.
var DefaultThrottle = ThrottleLimits{Failures: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}

// throttle counts failed sign-ins in memory, per host: with several
// hosts behind a balancer, each allows its own Failures (the budget of a
// guesser grows with the hosts, not with time).
type throttle struct {
	limits ThrottleLimits
	now    func() time.Time
	mu     sync.Mutex
	by     map[string]*failures
}

type failures struct {
	count int
	first time.Time
	until time.Time
}

// maxThrottled bounds the memory of the throttle: past it, entries whose
// window has passed are dropped.
const maxThrottled = 100000

func newThrottle(l ThrottleLimits, now func() time.Time) *throttle {
	return &throttle{limits: l, now: now, by: map[string]*failures{}}
}

// blocked returns how long the subjects are locked out, 0 when none is.
func (t *throttle) blocked(subjects ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var wait time.Duration
	for _, s := range subjects {
		if f := t.by[s]; f != nil && f.until.After(now) {
			wait = max(wait, f.until.Sub(now))
		}
	}
	return wait
}

func (t *throttle) failed(subjects ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.by) > maxThrottled {
		for k, f := range t.by {
			if now.Sub(f.first) > t.limits.Window && !f.until.After(now) {
				delete(t.by, k)
			}
		}
	}
	for _, s := range subjects {
		f := t.by[s]
		if f == nil || now.Sub(f.first) > t.limits.Window {
			f = &failures{first: now}
			t.by[s] = f
		}
		f.count++
		if f.count >= t.limits.Failures {
			f.until = now.Add(t.limits.Lockout)
			f.count, f.first = 0, now
		}
	}
}

// succeeded forgets the failures of a user who signed in; an address's
// failures stay (one right password does not excuse many wrong ones of
// other users).
func (t *throttle) succeeded(subjects ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range subjects {
		if strings.HasPrefix(s, "user:") {
			delete(t.by, s)
		}
	}
}
