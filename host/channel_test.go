package host_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

func TestChannelPublicHidesSecrets(t *testing.T) {
	ch := &host.Channel{ID: "shop", Config: sdk.Config{"token": "shpat_123", "shop": "x.myshopify.com"}, SecretFields: []string{"token", "absent"}}
	pub := ch.Public()
	if pub.Config["token"] != sdk.RedactedValue || pub.Config["shop"] != "x.myshopify.com" {
		t.Errorf("public config = %v", pub.Config)
	}
	if _, ok := pub.Config["absent"]; ok {
		t.Error("a secret that was not set appears")
	}
	if ch.Config["token"] != "shpat_123" {
		t.Error("Public changed the channel")
	}
}

func TestChannelInterval(t *testing.T) {
	for in, want := range map[string]time.Duration{"": host.DefaultPollInterval, "30s": 30 * time.Second, "nonsense": host.DefaultPollInterval, "-1m": host.DefaultPollInterval} {
		if got := (&host.Channel{PollInterval: in}).Interval(); got != want {
			t.Errorf("Interval(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestRunFinish(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		run  host.Run
		err  error
		want string
	}{
		{"clean", host.Run{Imported: 3}, nil, host.RunSucceeded},
		{"nothing new", host.Run{Existing: 3}, nil, host.RunSucceeded},
		{"an error", host.Run{Imported: 3}, errors.New("the shop went away"), host.RunFailed},
		{"rejected orders beside stored ones", host.Run{Imported: 2, Rejected: 1}, nil, host.RunPartial},
		{"a file set aside beside updates", host.Run{Updated: 1, Problems: 1}, nil, host.RunPartial},
		{"only rejected input", host.Run{Rejected: 2, Problems: 1}, nil, host.RunFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.run.Finish(tc.err, now)
			if got.Status != tc.want || got.FinishedAt == nil || !got.FinishedAt.Equal(now) {
				t.Fatalf("Finish = %s at %v, want %s", got.Status, got.FinishedAt, tc.want)
			}
			if tc.want != host.RunSucceeded && len(got.Errors) == 0 {
				t.Error("a run that is not a success says nothing about why")
			}
			if tc.run.Status != "" || tc.run.FinishedAt != nil {
				t.Error("Finish changed the run it was called on")
			}
		})
	}
}

func TestHistoryOf(t *testing.T) {
	created := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	at := func(h int) *time.Time { t := created.Add(time.Duration(h) * time.Hour); return &t }
	run := func(status string, h int) *host.Run { return &host.Run{Status: status, FinishedAt: at(h)} }
	for _, tc := range []struct {
		name     string
		runs     []*host.Run // newest first
		failures int
		last     time.Time
	}{
		{"no runs", nil, 0, created},
		{"failing since creation", []*host.Run{run(host.RunFailed, 3), run(host.RunFailed, 2)}, 2, created},
		{"interrupted runs are skipped", []*host.Run{run(host.RunFailed, 5), run(host.RunInterrupted, 4), run(host.RunPartial, 3), run(host.RunSucceeded, 2)}, 2, *at(3)},
		{"a success ends the streak", []*host.Run{run(host.RunSucceeded, 5), run(host.RunFailed, 4)}, 0, *at(5)},
		{"a running run is skipped", []*host.Run{{Status: host.RunRunning}, run(host.RunFailed, 2), run(host.RunSucceeded, 1)}, 1, *at(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := host.HistoryOf(&host.Channel{CreatedAt: created}, tc.runs)
			if h.FailuresInARow != tc.failures || !h.LastSuccess.Equal(tc.last) {
				t.Errorf("HistoryOf = %d failures, last success %v; want %d, %v", h.FailuresInARow, h.LastSuccess, tc.failures, tc.last)
			}
		})
	}
}
