package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/ordergate/ordergate/host"
)

var (
	bucketCursors = []byte("channel_cursors") // channel id -> cursor
	bucketRuns    = []byte("import_runs")     // channel id \x00 run id -> run JSON
)

// Cursor implements host.RunStore.
func (d *DB) Cursor(_ context.Context, channelID string) (string, error) {
	var cur string
	err := d.view(func(tx *bolt.Tx) error {
		cur = string(tx.Bucket(bucketCursors).Get([]byte(channelID)))
		return nil
	})
	return cur, err
}

// SaveCursor implements host.RunStore.
func (d *DB) SaveCursor(ctx context.Context, channelID, cursor string) error {
	return d.update(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCursors).Put([]byte(channelID), []byte(cursor))
	})
}

// PutRun implements host.RunStore.
func (d *DB) PutRun(ctx context.Context, r *host.Run) error {
	return d.update(ctx, func(tx *bolt.Tx) error { return putRun(tx, r) })
}

// EndRun implements host.RunStore.
func (d *DB) EndRun(ctx context.Context, channelID, runID string, end func(stored *host.Run) *host.Run) (*host.Run, error) {
	var out *host.Run
	err := d.update(ctx, func(tx *bolt.Tx) error {
		stored, err := getRun(tx, channelID, runID)
		if err != nil || stored.Status != host.RunRunning {
			out = stored
			return err
		}
		out = end(stored)
		return putRun(tx, out)
	})
	return out, err
}

func runKey(channelID, runID string) []byte {
	return append(append([]byte(channelID), 0), runID...)
}

func getRun(tx *bolt.Tx, channelID, runID string) (*host.Run, error) {
	data := tx.Bucket(bucketRuns).Get(runKey(channelID, runID))
	if data == nil {
		return nil, host.Errorf(host.ENOTFOUND, "run %s of channel %s not found", runID, channelID)
	}
	r := new(host.Run)
	if err := json.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("decoding run %s of channel %s: %w", runID, channelID, err)
	}
	return r, nil
}

// putPageRun stores the run of a committed page, unless the run has
// ended (host.RunStore.EndRun).
func putPageRun(tx *bolt.Tx, r *host.Run) error {
	if stored, err := getRun(tx, r.ChannelID, r.ID); err == nil && stored.Status != host.RunRunning {
		return nil
	}
	return putRun(tx, r)
}

// putRun stores a run and drops the channel's oldest runs beyond
// host.MaxRunsKept.
func putRun(tx *bolt.Tx, r *host.Run) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	runs := tx.Bucket(bucketRuns)
	prefix := append([]byte(r.ChannelID), 0)
	key := runKey(r.ChannelID, r.ID)
	existed := runs.Get(key) != nil
	if err := runs.Put(key, data); err != nil {
		return err
	}
	if existed { // an update of a run: nothing to drop
		return nil
	}
	n := 0
	c := runs.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	for ; n > host.MaxRunsKept; n-- {
		k, _ := c.Seek(prefix)
		if err := runs.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Runs implements host.RunStore.
func (d *DB) Runs(_ context.Context, channelID string, limit int) ([]*host.Run, error) {
	var out []*host.Run
	err := d.view(func(tx *bolt.Tx) error {
		prefix := append([]byte(channelID), 0)
		c := tx.Bucket(bucketRuns).Cursor()
		k, v := lastBefore(c, append(slices.Clone(prefix), 0xff))
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, v = c.Prev() {
			r := new(host.Run)
			if err := json.Unmarshal(v, r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}
