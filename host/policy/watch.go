package policy

import (
	"context"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watch reloads the policies whenever a file under the directory changes,
// until ctx ends. Bursts of changes (an editor's save, a git checkout) are
// folded into one reload after a short quiet period.
func (e *Engine) Watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	addTree := func() {
		_ = filepath.WalkDir(e.dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = w.Add(path)
			}
			return nil
		})
	}
	addTree()
	const quiet = 250 * time.Millisecond
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Has(fsnotify.Create) {
				addTree() // a new sub-directory is watched too
			}
			timer.Reset(quiet)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			e.log.Warn("watching the policy directory", "error", err)
		case <-timer.C:
			e.log.Info("policy files changed; reloading")
			_, _ = e.Reload(ctx) // a refused reload is logged and kept in Status
		}
	}
}
