package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/channels"
	"github.com/ordergate/ordergate/sdk"
)

// Connectors describes installed connectors; *connectors.Manager is the
// real one.
type Connectors interface {
	Installed() ([]string, error)
	Describe(ctx context.Context, name string) (sdk.Description, error)
}

// ChannelView is a channel as the API shows it: secrets redacted, with
// the state of its imports.
type ChannelView struct {
	*host.Channel
	Imports *ImportState `json:"imports,omitempty"`
}

// ImportState is the scheduler's view of a b2c channel.
type ImportState struct {
	Running            *host.Run  `json:"running,omitempty"`
	LastRun            *host.Run  `json:"last_run,omitempty"`
	NextRunAt          *time.Time `json:"next_run_at,omitempty"`
	FailuresInARow     int        `json:"failures_in_a_row"`
	SavedCursorPresent bool       `json:"saved_cursor_present"`
}

// ChannelList lists channels.
type ChannelList struct {
	Channels []ChannelView `json:"channels"`
}

// ConnectionTest is the outcome of a channel's connection test.
type ConnectionTest struct {
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
	// Kind and Error say what failed, e.g. unauthenticated, and what to do.
	Kind   string           `json:"kind,omitempty"`
	Error  string           `json:"error,omitempty"`
	Fields []sdk.FieldError `json:"fields,omitempty"`
}

// RunList lists import runs, newest first.
type RunList struct {
	Runs []*host.Run `json:"runs"`
}

// ConnectorInfo describes an installed connector.
type ConnectorInfo struct {
	Name         string            `json:"name"`
	Version      string            `json:"version,omitempty"`
	Description  string            `json:"description,omitempty"`
	Capabilities []string          `json:"capabilities,omitempty"`
	Config       []sdk.ConfigField `json:"config,omitempty"`
	Error        string            `json:"error,omitempty"`
}

// ConnectorList lists installed connectors.
type ConnectorList struct {
	Connectors []ConnectorInfo `json:"connectors"`
}

func (s *Server) createChannel(c *gin.Context) {
	var req host.ChannelRequest
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	ch, err := s.cfg.Channels.Create(c.Request.Context(), &req)
	if err != nil {
		s.abort(c, err)
		return
	}
	c.Header("Location", "/api/v1/channels/"+ch.ID)
	respond(c, http.StatusCreated, s.channelView(c.Request.Context(), ch))
}

func (s *Server) patchChannel(c *gin.Context) {
	var req host.ChannelPatch
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	ch, err := s.cfg.Channels.Update(c.Request.Context(), c.Param("id"), &req)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, s.channelView(c.Request.Context(), ch))
}

func (s *Server) deleteChannel(c *gin.Context) {
	if err := s.cfg.Channels.Delete(c.Request.Context(), c.Param("id")); err != nil {
		s.abort(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// channelView redacts a channel's secrets and adds its import state. A
// b2c channel with a connector shows the poll interval in force, its own
// or the default.
func (s *Server) channelView(ctx context.Context, ch *host.Channel) ChannelView {
	v := ChannelView{Channel: ch.Public()}
	if ch.Connector == "" || s.cfg.Importer == nil {
		return v
	}
	if v.PollInterval == "" {
		v.PollInterval = strings.TrimSuffix(ch.Interval().String(), "0s")
	}
	st := &ImportState{Running: s.cfg.Importer.Running(ch.ID)}
	next, failures, err := s.cfg.Importer.NextRun(ctx, ch)
	if err != nil {
		s.log.Warn("reading a channel's import history", "channel", ch.ID, "error", err)
	}
	st.FailuresInARow = failures
	if ch.Enabled && !next.IsZero() {
		st.NextRunAt = &next
	}
	if runs, err := s.cfg.Store.Runs(ctx, ch.ID, 2); err == nil {
		for _, r := range runs {
			if r.Status != host.RunRunning {
				st.LastRun = r
				break
			}
		}
	}
	if cur, err := s.cfg.Store.Cursor(ctx, ch.ID); err == nil {
		st.SavedCursorPresent = cur != ""
	}
	v.Imports = st
	return v
}

func (s *Server) listChannels(c *gin.Context) {
	list, err := s.cfg.Store.Channels(c.Request.Context())
	if err != nil {
		s.abort(c, err)
		return
	}
	out := ChannelList{Channels: make([]ChannelView, len(list))}
	for i, ch := range list {
		out.Channels[i] = s.channelView(c.Request.Context(), ch)
	}
	respond(c, http.StatusOK, out)
}

func (s *Server) getChannel(c *gin.Context) {
	ch, err := s.cfg.Store.Channel(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, s.channelView(c.Request.Context(), ch))
}

// importerOf returns the importer, or aborts when the host runs none.
func (s *Server) importerOf(c *gin.Context) (*host.Channel, bool) {
	if s.cfg.Importer == nil {
		s.abort(c, host.Errorf(host.EUNAVAILABLE, "this host runs no connectors"))
		return nil, false
	}
	ch, err := s.cfg.Store.Channel(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.abort(c, err)
		return nil, false
	}
	if ch.Connector == "" {
		s.abort(c, host.Errorf(host.EINVALID, "channel %s has no connector", ch.ID))
		return nil, false
	}
	return ch, true
}

func (s *Server) testChannel(c *gin.Context) {
	ch, ok := s.importerOf(c)
	if !ok {
		return
	}
	detail, err := s.cfg.Importer.TestConnection(c.Request.Context(), ch)
	if err != nil {
		res := ConnectionTest{Kind: string(sdk.KindOf(err)), Error: err.Error()}
		var se *sdk.Error
		if errors.As(err, &se) {
			res.Error, res.Fields = se.Message, channels.ConfigFields(se.Fields)
		} else if code := host.ErrorCode(err); code != host.EINTERNAL {
			res.Kind = code
		}
		respond(c, http.StatusOK, res)
		return
	}
	respond(c, http.StatusOK, ConnectionTest{OK: true, Detail: detail})
}

func (s *Server) importChannel(c *gin.Context) {
	ch, ok := s.importerOf(c)
	if !ok {
		return
	}
	started, err := s.cfg.Importer.ImportNow(c.Request.Context(), ch.ID)
	if err != nil {
		s.abort(c, err)
		return
	}
	c.Header("Location", "/api/v1/channels/"+ch.ID+"/runs")
	if started.RequestedOf != "" {
		respond(c, http.StatusAccepted, ImportRequested{ChannelID: ch.ID, RequestedOf: started.RequestedOf})
		return
	}
	respond(c, http.StatusAccepted, started.Run)
}

func (s *Server) listRuns(c *gin.Context) {
	if _, err := s.cfg.Store.Channel(c.Request.Context(), c.Param("id")); err != nil {
		s.abort(c, err)
		return
	}
	runs, err := s.cfg.Store.Runs(c.Request.Context(), c.Param("id"), queryOf(c).int("limit"))
	if err != nil {
		s.abort(c, err)
		return
	}
	if runs == nil {
		runs = []*host.Run{}
	}
	// The running run's record lags its progress; show the live one.
	if s.cfg.Importer != nil {
		if live := s.cfg.Importer.Running(c.Param("id")); live != nil {
			for i, r := range runs {
				if r.ID == live.ID {
					runs[i] = live
				}
			}
		}
	}
	respond(c, http.StatusOK, RunList{Runs: runs})
}

func (s *Server) listConnectors(c *gin.Context) {
	out := ConnectorList{Connectors: []ConnectorInfo{}}
	if s.cfg.Connectors == nil {
		respond(c, http.StatusOK, out)
		return
	}
	names, err := s.cfg.Connectors.Installed()
	if err != nil {
		s.abort(c, err)
		return
	}
	for _, name := range names {
		info := ConnectorInfo{Name: name}
		if d, err := s.cfg.Connectors.Describe(c.Request.Context(), name); err != nil {
			info.Error = err.Error()
		} else {
			info.Version, info.Description, info.Capabilities, info.Config = d.Version, d.Description, d.Capabilities, d.Config
		}
		out.Connectors = append(out.Connectors, info)
	}
	respond(c, http.StatusOK, out)
}

// ImportRequested answers a manual import sent to a host that does not
// hold the channel's lease: the host that does was asked to import it
// (it does within a third of the lease TTL), and its run appears among
// the channel's runs.
type ImportRequested struct {
	ChannelID   string `json:"channel_id"`
	RequestedOf string `json:"requested_of"`
}
