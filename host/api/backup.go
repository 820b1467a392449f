package api

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
)

// backup sends a consistent copy of the database. The copy is first taken
// into a temporary file, so the read transaction it needs lasts as long as
// a local copy, not as long as the client's download: a long read
// transaction would hold up writes that need the file to grow. Its length
// is sent first (Content-Length), so a copy cut short is seen as such by
// the client; `ordergate backup` also checks the file it wrote.
func (s *Server) backup(c *gin.Context) {
	if s.cfg.Backup == nil {
		s.abort(c, host.Errorf(host.ENOTIMPL, "this host keeps its data in PostgreSQL, which is backed up with the database's own tools (pg_dump, or point-in-time recovery from WAL archives): see docs/operations.md"))
		return
	}
	tmp, err := os.CreateTemp("", "ordergate-backup-*.db")
	if err != nil {
		s.abort(c, fmt.Errorf("creating a temporary file for the backup: %w", err))
		return
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	size, err := s.cfg.Backup(tmp)
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err != nil {
		s.abort(c, err)
		return
	}
	// A large copy takes longer to send than the server's write timeout.
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Time{})
	name := fmt.Sprintf("ordergate-%s.db", time.Now().UTC().Format("20060102T150405Z"))
	c.Header("Content-Type", "application/octet-stream")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename=%q`, name))
	c.Header("Content-Length", strconv.FormatInt(size, 10))
	c.Status(http.StatusOK)
	n, err := io.Copy(c.Writer, tmp)
	if err != nil {
		// The length promised is not reached: the client sees a cut copy.
		s.log.Error("backup cut short", "written", n, "size", size, "error", err)
		return
	}
	s.log.Info("backup sent", "bytes", n, "key", keyOf(c).ID)
}
