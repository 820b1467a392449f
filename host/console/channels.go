package console

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/ordergate/ordergate/host"
)

// RunsShown is how many runs of each channel the channels page lists.
const RunsShown = 5

// channelRow is one channel of the channels page. It never carries the
// channel's configuration: secrets are not rendered, not even redacted.
type channelRow struct {
	ID, Name, Kind, Connector, PollInterval string
	Enabled                                 bool
	Running                                 *host.Run
	LastRun                                 *host.Run
	Runs                                    []*host.Run
	NextRunAt                               *time.Time
	FailuresInARow                          int
	// Test is the outcome of "Test connection", on the page that ran it.
	Test *connectionTest
}

type connectionTest struct {
	OK     bool
	Detail string
}

type channelsView struct {
	Channels []channelRow
	// Imports is false on a host that runs no connectors.
	Imports bool
	Notice  string
}

func (c *Console) channelRows(r *http.Request) ([]channelRow, error) {
	ctx := r.Context()
	list, err := c.cfg.Store.Channels(ctx)
	if err != nil {
		return nil, err
	}
	rows := make([]channelRow, 0, len(list))
	for _, ch := range list {
		row := channelRow{ID: ch.ID, Name: ch.Name, Kind: ch.Kind, Connector: ch.Connector, Enabled: ch.Enabled, PollInterval: ch.PollInterval}
		if ch.Connector != "" && c.cfg.Importer != nil {
			if row.PollInterval == "" {
				row.PollInterval = ch.Interval().String()
			}
			row.Running = c.cfg.Importer.Running(ch.ID)
			next, failures, err := c.cfg.Importer.NextRun(ctx, ch)
			if err != nil {
				c.log.Warn("reading a channel's import history", "channel", ch.ID, "error", err)
			}
			row.FailuresInARow = failures
			if ch.Enabled && !next.IsZero() {
				row.NextRunAt = &next
			}
		}
		runs, err := c.cfg.Store.Runs(ctx, ch.ID, RunsShown)
		if err != nil {
			return nil, err
		}
		for i, run := range runs {
			if row.Running != nil && run.ID == row.Running.ID {
				runs[i] = row.Running // the live counters
			}
			if row.LastRun == nil && run.Status != host.RunRunning {
				row.LastRun = run
			}
		}
		row.Runs = runs
		rows = append(rows, row)
	}
	return rows, nil
}

func (c *Console) channelsPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.renderChannels(w, r, s, "", "", nil)
}

func (c *Console) renderChannels(w http.ResponseWriter, r *http.Request, s *session, notice, tested string, test *connectionTest) {
	rows, err := c.channelRows(r)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	for i := range rows {
		if rows[i].ID == tested {
			rows[i].Test = test
		}
	}
	c.render(w, r, s, http.StatusOK, "channels", "Channels", channelsView{Channels: rows, Imports: c.cfg.Importer != nil, Notice: notice})
}

// importable returns the channel of the path when the host can import it.
func (c *Console) importable(w http.ResponseWriter, r *http.Request, s *session) *host.Channel {
	if c.cfg.Importer == nil {
		c.renderError(w, r, s, http.StatusServiceUnavailable, "This host runs no connectors.")
		return nil
	}
	ch, err := c.cfg.Store.Channel(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return nil
	}
	if ch.Connector == "" {
		c.renderError(w, r, s, http.StatusUnprocessableEntity, "Channel "+ch.ID+" has no connector: its orders are posted to the API.")
		return nil
	}
	return ch
}

func (c *Console) importChannel(w http.ResponseWriter, r *http.Request, s *session) {
	ch := c.importable(w, r, s)
	if ch == nil {
		return
	}
	started, err := c.cfg.Importer.ImportNow(r.Context(), ch.ID)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	notice := "Import of " + ch.ID + " started."
	if started.RequestedOf != "" {
		notice = "Import of " + ch.ID + " requested of host " + started.RequestedOf + ", which runs its imports."
	}
	c.renderChannels(w, r, s, notice, "", nil)
}

func (c *Console) testChannel(w http.ResponseWriter, r *http.Request, s *session) {
	ch := c.importable(w, r, s)
	if ch == nil {
		return
	}
	detail, err := c.cfg.Importer.TestConnection(r.Context(), ch)
	test := &connectionTest{OK: err == nil, Detail: detail}
	if err != nil {
		test.Detail = err.Error()
	}
	c.renderChannels(w, r, s, "", ch.ID, test)
}

// channelsProgress serves the runs in progress to the page's script,
// which shows an import's progress live.
func (c *Console) channelsProgress(w http.ResponseWriter, r *http.Request, s *session) {
	rows, err := c.channelRows(r)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	type progress struct {
		Running    bool   `json:"running"`
		Status     string `json:"status,omitempty"`
		Pages      int    `json:"pages"`
		OrdersSeen int    `json:"orders_seen"`
		Imported   int    `json:"imported"`
		Held       int    `json:"held"`
	}
	out := map[string]progress{}
	for _, row := range rows {
		p := progress{}
		run := row.Running
		if run == nil {
			run = row.LastRun
		} else {
			p.Running = true
		}
		if run != nil {
			p.Status, p.Pages, p.OrdersSeen, p.Imported, p.Held = run.Status, run.Pages, run.OrdersSeen, run.Imported, run.Held
		}
		out[row.ID] = p
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}
