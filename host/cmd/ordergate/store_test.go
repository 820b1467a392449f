package main_test

import (
	"sync"
	"testing"

	"github.com/ordergate/ordergate/host/internal/pgtest"
)

// The PostgreSQL cluster the tests of this package share, started by the
// first test that needs it and removed by TestMain.
var pg struct {
	once sync.Once
	srv  *pgtest.Server
	err  error
}

func postgresServer(t testing.TB) *pgtest.Server {
	t.Helper()
	pg.once.Do(func() { pg.srv, pg.err = pgtest.New() })
	if pg.err != nil {
		t.Fatal(pg.err)
	}
	return pg.srv
}

// backend is a store a host started by a test keeps its data in: args
// are the serve flags that give a host a new, empty one.
type backend struct {
	name string
	args func(t *testing.T) []string
}

var backends = []backend{
	{"bolt", func(t *testing.T) []string { return []string{"--data", t.TempDir()} }},
	// A short lease TTL: a host restarted on the store waits for the
	// lease its killed predecessor held to expire before it imports.
	{"postgres", func(t *testing.T) []string {
		return []string{"--store", postgresServer(t).NewDatabase(t), "--lease-ttl", "3s"}
	}},
}

// onEachStore runs test once per backend, as a subtest named after it,
// each with a new store.
func onEachStore(t *testing.T, test func(t *testing.T, store []string)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b.args(t)) })
	}
}
