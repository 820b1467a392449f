package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ordergate/ordergate/sdk"
)

// Version is the file connector's version.
var Version = "1.0.0"

// Configuration fields.
const (
	cfgFolder     = "folder"
	cfgFormat     = "format"
	cfgCSVColumns = "csv_columns"
	cfgMaxFiles   = "max_files"
	cfgPageSize   = "page_size"
)

// Folders inside the drop folder.
const (
	processedDir = "processed"
	failedDir    = "failed"
)

// FileConnector imports orders from files dropped in a folder: JSON (an
// array of canonical orders, or one order), NDJSON (one order per line)
// and CSV (one row per line item, grouped by order number).
//
// A file is imported whole or not at all. Its orders are sent, and the
// cursor then names the file with its content hash; when the host comes
// back with that cursor (it saves a cursor only once the orders before it
// are stored), the file is moved to processed/. A file that cannot be read
// is moved to failed/ with a .error.txt beside it, and reported.
type FileConnector struct{}

// New returns the file connector.
func New() *FileConnector { return &FileConnector{} }

// Describe implements sdk.Connector.
func (*FileConnector) Describe() sdk.Description {
	return sdk.Description{
		Name:         "file",
		Version:      Version,
		Description:  "Imports orders from JSON, NDJSON and CSV files dropped in a folder.",
		Capabilities: []string{sdk.CapabilityGetOrders},
		Config: []sdk.ConfigField{
			{Name: cfgFolder, Type: sdk.FieldString, Required: true, Description: "The folder files are dropped in. Imported files move to processed/ inside it, unreadable ones to failed/."},
			{Name: cfgFormat, Type: sdk.FieldString, Default: "auto", Description: "auto (by extension: .json, .ndjson or .jsonl, .csv), json, ndjson or csv."},
			{Name: cfgCSVColumns, Type: sdk.FieldStringMap, Description: "CSV only: canonical field -> header of the column that holds it, for headers that differ from the canonical names (see the connector's README)."},
			{Name: cfgMaxFiles, Type: sdk.FieldInteger, Default: 100, Description: "How many files one import reads at most."},
			{Name: cfgPageSize, Type: sdk.FieldInteger, Default: 500, Description: "How many orders one page carries at most."},
		},
	}
}

// TestConnection implements sdk.Connector: the folder must exist and be
// writable (files are moved out of it).
func (c *FileConnector) TestConnection(ctx context.Context, cfg sdk.Config) (string, error) {
	folder := cfg.String(cfgFolder)
	if err := checkFormat(cfg); err != nil {
		return "", err
	}
	if _, err := columnMapping(cfg.StringMap(cfgCSVColumns)); err != nil {
		return "", err
	}
	info, err := os.Stat(folder)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", sdk.Errorf(sdk.ErrNotFound, "folder %s does not exist; create it or fix the folder setting", folder)
	case err != nil:
		return "", sdk.Errorf(sdk.ErrPermissionDenied, "folder %s cannot be read: %v", folder, err)
	case !info.IsDir():
		return "", sdk.Errorf(sdk.ErrNotFound, "%s is a file, not a folder", folder)
	}
	probe, err := os.CreateTemp(folder, ".ordergate-probe-*")
	if err != nil {
		return "", sdk.Errorf(sdk.ErrPermissionDenied, "folder %s is not writable (imported files are moved out of it): %v", folder, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	files, err := c.candidates(folder)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("folder %s is readable and writable; %d file(s) waiting", folder, len(files)), nil
}

func checkFormat(cfg sdk.Config) error {
	switch f := cfg.String(cfgFormat); f {
	case "auto", "json", "ndjson", "csv":
		return nil
	default:
		return &sdk.Error{Kind: sdk.ErrInvalidConfig, Message: "the configuration is not valid",
			Fields: []sdk.FieldError{{Field: cfgFormat, Detail: fmt.Sprintf("%q is not auto, json, ndjson or csv", f)}}}
	}
}

// cursor is the connector's cursor: the files sent whose import the host
// has not confirmed yet, as "sha256:name".
type cursor struct {
	Sent []string `json:"sent"`
}

func parseCursor(s string) (cursor, error) {
	var c cursor
	if s == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, sdk.Errorf(sdk.ErrInternal, "the cursor %q was not made by this connector: %v", s, err)
	}
	return c, nil
}

func (c cursor) String() string {
	data, _ := json.Marshal(c)
	return string(data)
}

// GetOrders implements sdk.Connector.
func (c *FileConnector) GetOrders(ctx context.Context, cfg sdk.Config, cur string, pages sdk.Pages) error {
	log := sdk.Logger(ctx)
	folder := cfg.String(cfgFolder)
	if err := checkFormat(cfg); err != nil {
		return err
	}
	columns, err := columnMapping(cfg.StringMap(cfgCSVColumns))
	if err != nil {
		return err
	}
	confirmed, err := parseCursor(cur)
	if err != nil {
		return err
	}
	// The host stored everything the cursor names: set those files aside.
	for _, entry := range confirmed.Sent {
		hash, name, _ := strings.Cut(entry, ":")
		if err := moveIfSame(folder, name, hash, processedDir); err != nil {
			return err
		}
	}
	files, err := c.candidates(folder)
	if err != nil {
		return err
	}
	maxFiles, pageSize := int(cfg.Int(cfgMaxFiles)), int(cfg.Int(cfgPageSize))
	if maxFiles < 1 {
		maxFiles = 100
	}
	if pageSize < 1 {
		pageSize = 500
	}
	var sent cursor
	for _, name := range files[:min(len(files), maxFiles)] {
		if err := ctx.Err(); err != nil {
			return err
		}
		path := filepath.Join(folder, name)
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // taken away meanwhile
		}
		if err != nil {
			return sdk.Errorf(sdk.ErrUnavailable, "reading %s: %v", name, err)
		}
		orders, perr := parseFile(name, data, cfg.String(cfgFormat), columns)
		if perr != nil {
			log.Warn("file set aside", "file", name, "error", perr)
			if err := setAside(folder, name, perr); err != nil {
				return err
			}
			if err := pages.Send(nil, sent.String(), sdk.Problem{Source: name, Message: perr.Error() + " (moved to " + failedDir + "/)"}); err != nil {
				return err
			}
			continue
		}
		sum := sha256.Sum256(data)
		entry := hex.EncodeToString(sum[:]) + ":" + name
		// Pages before the last keep the previous cursor: the file counts
		// as sent only once all its orders are.
		for start := 0; start < len(orders) || start == 0; start += pageSize {
			end := min(start+pageSize, len(orders))
			next := sent
			if end == len(orders) {
				next = cursor{Sent: append(slices.Clone(sent.Sent), entry)}
			}
			if err := pages.Send(orders[start:end], next.String()); err != nil {
				return err
			}
			if end == len(orders) {
				sent = next
				break
			}
		}
		log.Debug("file sent", "file", name, "orders", len(orders))
	}
	return nil
}

// candidates lists the files waiting in the folder, by name.
func (*FileConnector) candidates(folder string) ([]string, error) {
	entries, err := os.ReadDir(folder)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, sdk.Errorf(sdk.ErrNotFound, "folder %s does not exist; create it or fix the folder setting", folder)
	}
	if err != nil {
		return nil, sdk.Errorf(sdk.ErrUnavailable, "listing folder %s: %v", folder, err)
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") {
			continue
		}
		switch strings.ToLower(filepath.Ext(name)) {
		case ".json", ".ndjson", ".jsonl", ".csv":
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// moveIfSame moves folder/name into folder/dir when its content still has
// the hash (a file replaced under the same name is a new file).
func moveIfSame(folder, name, hash, dir string) error {
	path := filepath.Join(folder, name)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return sdk.Errorf(sdk.ErrUnavailable, "reading %s: %v", name, err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != hash {
		return nil
	}
	_, err = move(folder, name, dir, hash[:12])
	return err
}

// move renames folder/name into folder/dir, adding tag to the name when
// the target exists, and returns the new path.
func move(folder, name, dir, tag string) (string, error) {
	if err := os.MkdirAll(filepath.Join(folder, dir), 0o755); err != nil {
		return "", sdk.Errorf(sdk.ErrUnavailable, "creating %s: %v", dir, err)
	}
	target := filepath.Join(folder, dir, name)
	if _, err := os.Stat(target); err == nil {
		ext := filepath.Ext(name)
		target = filepath.Join(folder, dir, strings.TrimSuffix(name, ext)+"."+tag+ext)
	}
	if err := os.Rename(filepath.Join(folder, name), target); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", sdk.Errorf(sdk.ErrUnavailable, "moving %s to %s/: %v", name, dir, err)
	}
	return target, nil
}

// setAside moves an unreadable file to failed/ with its error beside it.
func setAside(folder, name string, cause error) error {
	data, _ := os.ReadFile(filepath.Join(folder, name))
	sum := sha256.Sum256(data)
	tag := hex.EncodeToString(sum[:])[:12]
	target, err := move(folder, name, failedDir, tag)
	if err != nil {
		return err
	}
	note := target + ".error.txt"
	if err := os.WriteFile(note, []byte(cause.Error()+"\n"), 0o644); err != nil {
		return sdk.Errorf(sdk.ErrUnavailable, "writing %s: %v", note, err)
	}
	return nil
}
