package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
)

// RoutingGroupList lists routing groups.
type RoutingGroupList struct {
	RoutingGroups []*host.RoutingGroup `json:"routing_groups"`
}

func (s *Server) createRoutingGroup(c *gin.Context) {
	var req host.RoutingGroupRequest
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	g, err := s.cfg.Catalog.CreateRoutingGroup(c.Request.Context(), &req)
	if err != nil {
		s.abort(c, err)
		return
	}
	c.Header("Location", "/api/v1/routing-groups/"+g.ID)
	respond(c, http.StatusCreated, g)
}

func (s *Server) putRoutingGroup(c *gin.Context) {
	var req host.RoutingGroupRequest
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	g, err := s.cfg.Catalog.ReplaceRoutingGroup(c.Request.Context(), c.Param("id"), &req)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, g)
}

func (s *Server) patchRoutingGroup(c *gin.Context) {
	var req host.RoutingGroupPatch
	if err := readJSON(c, s.cfg.BodyLimit, &req); err != nil {
		s.abort(c, err)
		return
	}
	g, err := s.cfg.Catalog.UpdateRoutingGroup(c.Request.Context(), c.Param("id"), &req)
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, g)
}

func (s *Server) listRoutingGroups(c *gin.Context) {
	list, err := s.cfg.Store.RoutingGroups(c.Request.Context())
	if err != nil {
		s.abort(c, err)
		return
	}
	if list == nil {
		list = []*host.RoutingGroup{}
	}
	respond(c, http.StatusOK, RoutingGroupList{RoutingGroups: list})
}

func (s *Server) getRoutingGroup(c *gin.Context) {
	g, err := s.cfg.Store.RoutingGroup(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.abort(c, err)
		return
	}
	respond(c, http.StatusOK, g)
}

func (s *Server) deleteRoutingGroup(c *gin.Context) {
	if err := s.cfg.Catalog.DeleteRoutingGroup(c.Request.Context(), c.Param("id")); err != nil {
		s.abort(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
