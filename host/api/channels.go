package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
	"github.com/ordergate/ordergate/sdk/plugin"
)

// Connectors describes installed connectors; *connectors.Manager is the
// real one.
type Connectors interface {
	Installed() ([]string, error)
	Connector(ctx context.Context, name string) (*plugin.Client, sdk.Description, error)
}

// ChannelRequest creates a channel.
type ChannelRequest struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Kind is b2b (orders posted to the API) or b2c (imported by a connector).
	Kind string `json:"kind"`
	// Connector, Config, PollInterval and Enabled are for b2c channels.
	Connector    string     `json:"connector,omitempty"`
	Config       sdk.Config `json:"config,omitempty"`
	PollInterval string     `json:"poll_interval,omitempty"`
	// Enabled defaults to true for a channel with a connector.
	Enabled *bool `json:"enabled,omitempty"`
}

// ChannelPatch changes a channel; fields left out stay. A secret config
// value given as "(secret)" keeps the stored one.
type ChannelPatch struct {
	Name         *string    `json:"name,omitempty"`
	Connector    *string    `json:"connector,omitempty"`
	Config       sdk.Config `json:"config,omitempty"`
	PollInterval *string    `json:"poll_interval,omitempty"`
	Enabled      *bool      `json:"enabled,omitempty"`
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

// checkConnector checks a b2c channel's connector and configuration
// against the connector's description and records its secret fields.
func (s *Server) checkConnector(ctx context.Context, ch *host.Channel) error {
	if ch.Connector == "" {
		if ch.Kind == host.ChannelB2C && (len(ch.Config) > 0 || ch.Enabled) {
			return host.InvalidFields("the channel is not valid", []sdk.FieldError{{Field: "connector", Detail: "is required for a b2c channel that is imported"}})
		}
		return nil
	}
	if ch.Kind != host.ChannelB2C {
		return host.InvalidFields("the channel is not valid", []sdk.FieldError{{Field: "connector", Detail: "only b2c channels have a connector"}})
	}
	if s.cfg.Connectors == nil {
		return host.Errorf(host.EUNAVAILABLE, "this host runs no connectors")
	}
	_, desc, err := s.cfg.Connectors.Connector(ctx, ch.Connector)
	if err != nil {
		var he *host.Error
		if errors.As(err, &he) && (he.Code == host.EINVALID || he.Code == host.EFORBIDDEN) {
			return &host.Error{Code: host.EINVALID, Message: "the connector cannot be used", Fields: []sdk.FieldError{{Field: "connector", Detail: he.Message}}}
		}
		return err
	}
	if _, err := desc.Check(ch.Config); err != nil {
		var se *sdk.Error
		if errors.As(err, &se) {
			return host.InvalidFields(fmt.Sprintf("the configuration does not suit connector %s %s", desc.Name, desc.Version), configFields(se.Fields))
		}
		return err
	}
	ch.SecretFields = nil
	for _, f := range desc.Config {
		if f.Secret {
			ch.SecretFields = append(ch.SecretFields, f.Name)
		}
	}
	return nil
}

func checkInterval(v string) []sdk.FieldError {
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < host.MinPollInterval || d > host.MaxPollInterval {
		return []sdk.FieldError{{Field: "poll_interval", Detail: "must be a duration from 1s to 24h, such as \"5m\""}}
	}
	return nil
}

func (s *Server) createChannel(c *gin.Context) {
	var req ChannelRequest
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	var bad []sdk.FieldError
	if !host.ValidChannelID(req.ID) {
		bad = append(bad, sdk.FieldError{Field: "id", Detail: "must be 1-64 lower-case letters, digits, '_' or '-'"})
	}
	if req.Kind != host.ChannelB2B && req.Kind != host.ChannelB2C {
		bad = append(bad, sdk.FieldError{Field: "kind", Detail: "must be b2b or b2c"})
	}
	if len(req.Name) > 200 {
		bad = append(bad, sdk.FieldError{Field: "name", Detail: "must be at most 200 characters"})
	}
	bad = append(bad, checkInterval(req.PollInterval)...)
	if len(bad) > 0 {
		s.abort(c, host.InvalidFields("the channel is not valid", bad))
		return
	}
	if req.Name == "" {
		req.Name = req.ID
	}
	now := time.Now().UTC()
	want := &host.Channel{ID: req.ID, Name: req.Name, Kind: req.Kind, Connector: req.Connector, Config: req.Config,
		PollInterval: req.PollInterval, Enabled: req.Connector != "" && (req.Enabled == nil || *req.Enabled), CreatedAt: now, UpdatedAt: now}
	if _, err := s.cfg.Channels.Channel(c.Request.Context(), req.ID); err == nil {
		s.abort(c, host.Errorf(host.ECONFLICT, "channel %s already exists", req.ID))
		return
	}
	if err := s.checkConnector(c.Request.Context(), want); err != nil {
		s.abort(c, err)
		return
	}
	ch, err := s.cfg.Channels.EnsureChannel(c.Request.Context(), want)
	if err != nil {
		s.abort(c, err)
		return
	}
	if ch != want {
		s.abort(c, host.Errorf(host.ECONFLICT, "channel %s already exists", req.ID))
		return
	}
	c.Header("Location", "/api/v1/channels/"+ch.ID)
	respond(c, http.StatusCreated, s.channelView(c.Request.Context(), ch))
}

func (s *Server) patchChannel(c *gin.Context) {
	var req ChannelPatch
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	ch, err := s.cfg.Channels.Channel(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.abort(c, err)
		return
	}
	var bad []sdk.FieldError
	if req.Name != nil {
		if *req.Name == "" || len(*req.Name) > 200 {
			bad = append(bad, sdk.FieldError{Field: "name", Detail: "must be 1-200 characters"})
		}
		ch.Name = *req.Name
	}
	if req.PollInterval != nil {
		bad = append(bad, checkInterval(*req.PollInterval)...)
		ch.PollInterval = *req.PollInterval
	}
	if len(bad) > 0 {
		s.abort(c, host.InvalidFields("the change is not valid", bad))
		return
	}
	if req.Connector != nil {
		ch.Connector = *req.Connector
	}
	if req.Config != nil {
		// "(secret)" stands for the stored secret, so a client can send
		// back what it read.
		for name, v := range req.Config {
			if v == sdk.RedactedValue && slices.Contains(ch.SecretFields, name) {
				req.Config[name] = ch.Config[name]
			}
		}
		ch.Config = req.Config
	}
	if req.Enabled != nil {
		ch.Enabled = *req.Enabled
	}
	if err := s.checkConnector(c.Request.Context(), ch); err != nil {
		s.abort(c, err)
		return
	}
	ch.UpdatedAt = time.Now().UTC()
	if err := s.cfg.Channels.PutChannel(c.Request.Context(), ch); err != nil {
		s.abort(c, err)
		return
	}
	if s.cfg.Importer != nil {
		s.cfg.Importer.Reschedule(ch.ID)
	}
	respond(c, http.StatusOK, s.channelView(c.Request.Context(), ch))
}

func (s *Server) deleteChannel(c *gin.Context) {
	id := c.Param("id")
	if s.cfg.Importer != nil && s.cfg.Importer.Running(id) != nil {
		s.abort(c, host.Errorf(host.ECONFLICT, "channel %s is importing; disable it and wait for the import to end", id))
		return
	}
	if err := s.cfg.Channels.DeleteChannel(c.Request.Context(), id); err != nil {
		s.abort(c, err)
		return
	}
	if s.cfg.Importer != nil {
		s.cfg.Importer.Reschedule(id)
	}
	c.Status(http.StatusNoContent)
}

// configFields names a connector's configuration errors as the channel's
// fields ("config.page_size"), the same wherever the API shows them.
func configFields(fields []sdk.FieldError) []sdk.FieldError {
	out := make([]sdk.FieldError, len(fields))
	for i, f := range fields {
		out[i] = sdk.FieldError{Field: "config." + strings.TrimPrefix(f.Field, "config."), Detail: f.Detail}
	}
	return out
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
	if runs, err := s.cfg.Runs.Runs(ctx, ch.ID, 2); err == nil {
		for _, r := range runs {
			if r.Status != host.RunRunning {
				st.LastRun = r
				break
			}
		}
	}
	if cur, err := s.cfg.Runs.Cursor(ctx, ch.ID); err == nil {
		st.SavedCursorPresent = cur != ""
	}
	v.Imports = st
	return v
}

func (s *Server) listChannels(c *gin.Context) {
	list, err := s.cfg.Channels.Channels(c.Request.Context())
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
	ch, err := s.cfg.Channels.Channel(c.Request.Context(), c.Param("id"))
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
	ch, err := s.cfg.Channels.Channel(c.Request.Context(), c.Param("id"))
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
			res.Error, res.Fields = se.Message, configFields(se.Fields)
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
	run, err := s.cfg.Importer.ImportNow(c.Request.Context(), ch.ID)
	if err != nil {
		s.abort(c, err)
		return
	}
	c.Header("Location", "/api/v1/channels/"+ch.ID+"/runs")
	respond(c, http.StatusAccepted, run)
}

func (s *Server) listRuns(c *gin.Context) {
	if _, err := s.cfg.Channels.Channel(c.Request.Context(), c.Param("id")); err != nil {
		s.abort(c, err)
		return
	}
	runs, err := s.cfg.Runs.Runs(c.Request.Context(), c.Param("id"), queryOf(c).int("limit"))
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
		if _, d, err := s.cfg.Connectors.Connector(c.Request.Context(), name); err != nil {
			info.Error = err.Error()
		} else {
			info.Version, info.Description, info.Capabilities, info.Config = d.Version, d.Description, d.Capabilities, d.Config
		}
		out.Connectors = append(out.Connectors, info)
	}
	respond(c, http.StatusOK, out)
}
