package api

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
)

// Hosts are the hosts serving one store (app.Hosts).
type Hosts interface {
	// Members lists the live hosts, this one marked Self.
	Members(ctx context.Context) ([]host.Member, error)
	// Self describes this host.
	Self() host.Member
}

// HostList answers GET /api/v1/hosts.
type HostList struct {
	Hosts []host.Member `json:"hosts"`
}

// Status answers GET /api/v1/status: this host and its store.
type Status struct {
	Host     host.Member `json:"host"`
	Store    string      `json:"store"`
	Version  string      `json:"version"`
	Revision string      `json:"revision"`
}

func (s *Server) listHosts(c *gin.Context) {
	if s.cfg.Hosts == nil {
		respond(c, http.StatusOK, HostList{Hosts: []host.Member{}})
		return
	}
	members, err := s.cfg.Hosts.Members(c.Request.Context())
	if err != nil {
		s.abort(c, err)
		return
	}
	if members == nil {
		members = []host.Member{}
	}
	respond(c, http.StatusOK, HostList{Hosts: members})
}

func (s *Server) status(c *gin.Context) {
	st := Status{Store: s.cfg.StoreName, Version: s.cfg.Version}
	if s.cfg.Hosts != nil {
		st.Host = s.cfg.Hosts.Self()
		st.Revision = st.Host.Revision
	}
	if st.Host.Leases == nil {
		st.Host.Leases = []string{}
	}
	respond(c, http.StatusOK, st)
}
