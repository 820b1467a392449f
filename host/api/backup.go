package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
)

// backup streams a consistent copy of the database. Its length is sent
// first (Content-Length), so a copy cut short is seen as such by the
// client; `ordergate backup` also checks the file it wrote.
func (s *Server) backup(c *gin.Context) {
	if s.cfg.Backup == nil {
		s.abort(c, host.Errorf(host.EUNSUPPORTED, "this host's store cannot be backed up"))
		return
	}
	name := fmt.Sprintf("ordergate-%s.db", time.Now().UTC().Format("20060102T150405Z"))
	started := false
	n, err := s.cfg.Backup(c.Writer, func(size int64) {
		started = true
		c.Header("Content-Type", "application/octet-stream")
		c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename=%q`, name))
		c.Header("Content-Length", strconv.FormatInt(size, 10))
		c.Status(http.StatusOK)
	})
	if err != nil {
		if !started {
			s.abort(c, err)
			return
		}
		// The length promised is not reached: the client sees a cut copy.
		s.log.Error("backup cut short", "written", n, "error", err)
		return
	}
	s.log.Info("backup sent", "bytes", n, "key", keyOf(c).ID)
}
