package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/host/backtest"
	"github.com/ordergate/ordergate/host/policy"
	"github.com/ordergate/ordergate/host/rulestats"
	"github.com/ordergate/ordergate/sdk"
)

// BacktestRequest is a backtest to run: a candidate revision (its files,
// or the id of the revision serving) and the stored orders to replay it
// on.
type BacktestRequest struct {
	// Files are the candidate's .rego, .json and .yaml files by path
	// relative to the policy directory.
	Files map[string]string `json:"files,omitempty"`
	// Revision, instead of files, replays the revision serving (give
	// its id), e.g. on today's facts.
	Revision string `json:"revision,omitempty"`
	// Since selects the orders imported within it (a duration such as
	// "720h" or "30d"); all orders when empty.
	Since     string `json:"since,omitempty"`
	ChannelID string `json:"channel_id,omitempty"`
	Status    string `json:"status,omitempty"`
	// Limit is how many changed orders the result lists (default 50,
	// at most 1,000).
	Limit int `json:"limit,omitempty"`
	// Baseline is facts_at_decision (default: each order on the facts it
	// was decided with) or facts_now.
	Baseline string `json:"baseline,omitempty"`
}

// BacktestStarted is the answer to POST /api/v1/workflow/backtest.
type BacktestStarted struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// RevisionList is GET /api/v1/workflow/revisions.
type RevisionList struct {
	Revisions []policy.RevisionRecord `json:"revisions"`
}

func (s *Server) startBacktest(c *gin.Context) {
	ctx := c.Request.Context()
	body, err := readBody(c, s.cfg.BatchBodyLimit)
	if err != nil {
		s.abort(c, err)
		return
	}
	var req BacktestRequest
	if err := decodeStrict(body, &req, ""); err != nil {
		s.abort(c, err)
		return
	}
	opt, err := s.backtestOptions(ctx, &req)
	if err != nil {
		s.abort(c, err)
		return
	}
	// The place is taken before the candidate is compiled and tested.
	place, err := s.cfg.Backtests.Reserve()
	if err != nil {
		s.abort(c, err)
		return
	}
	defer place.Release()
	var candidate *policy.Revision
	switch serving := s.cfg.Engine.Revision(); {
	case len(req.Files) > 0 && req.Revision != "":
		err = host.InvalidFields("give the candidate's files or a revision, not both", []sdk.FieldError{{Field: "revision", Detail: "must be left out when files are given"}})
	case req.Revision != "":
		if serving == nil || serving.ID != req.Revision {
			err = host.InvalidFields("the revision is not loaded", []sdk.FieldError{{Field: "revision", Detail: "is not the revision serving; send the candidate's files instead"}})
		}
		candidate = serving
	default:
		candidate, err = policy.LoadFiles(ctx, req.Files, "files")
	}
	if err != nil {
		s.abort(c, err)
		return
	}
	job := place.Start(candidate.ID, func(ctx context.Context, progress func(backtest.Progress)) (*backtest.Result, error) {
		opt.Progress = progress
		return backtest.Run(ctx, s.cfg.Store, s.factsNow, candidate, opt)
	})
	c.Header("Location", "/api/v1/workflow/backtests/"+job.ID)
	respond(c, http.StatusAccepted, BacktestStarted{ID: job.ID, Status: job.Status})
}

// factsNow is a backtest's source of today's facts: the host's own read.
func (s *Server) factsNow(ctx context.Context, r *host.Record) (*host.OrderContext, error) {
	return s.cfg.Orders.FactsNow(host.WithActor(ctx, host.System), r)
}

// backtestOptions checks a request's filters; every bad one is named.
func (s *Server) backtestOptions(ctx context.Context, req *BacktestRequest) (backtest.Options, error) {
	f := backtest.Filters{Since: req.Since, ChannelID: req.ChannelID, Status: req.Status, Limit: req.Limit, Baseline: req.Baseline}
	opt, err := f.Options(ctx, s.cfg.Store)
	opt.Decide = s.cfg.Engine.Replay
	return opt, err
}

func (s *Server) getBacktest(c *gin.Context) {
	job, err := s.cfg.Backtests.Get(c.Param("id"))
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, job)
}

func (s *Server) listRevisions(c *gin.Context) {
	respond(c, http.StatusOK, RevisionList{Revisions: s.cfg.Engine.Revisions()})
}

func (s *Server) ruleStats(c *gin.Context) {
	rev := s.cfg.Engine.Revision()
	if rev == nil {
		s.abort(c, host.Errorf(host.EUNAVAILABLE, "no policy revision is loaded"))
		return
	}
	now := time.Now().UTC()
	// Hours of the last 30 days, and the hour before the first.
	hits, err := s.cfg.RuleStats.Hits(c.Request.Context(), now.Add(-(30*24+1)*time.Hour).Truncate(time.Hour))
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, rulestats.Build(rev, hits, now))
}
