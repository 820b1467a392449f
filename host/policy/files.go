package policy

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

// MaxBundleFiles bounds the files of a policy bundle sent to the API.
const MaxBundleFiles = 1000

// LoadFiles loads a revision from a bundle of files by relative path, as
// a candidate to replay: the bundle is checked, written to a directory of
// its own and loaded, compiled and tested like a policy directory. A bad
// path is an EINVALID error naming field+"."+path.
func LoadFiles(ctx context.Context, files map[string]string, field string) (*Revision, error) {
	if err := CheckBundle(files, field); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ordergate-bundle-")
	if err != nil {
		return nil, fmt.Errorf("writing the policy bundle: %w", err)
	}
	defer os.RemoveAll(dir)
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return nil, fmt.Errorf("writing the policy bundle: %w", err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			return nil, fmt.Errorf("writing the policy bundle: %w", err)
		}
	}
	rev, err := LoadRevision(ctx, dir)
	if err != nil {
		// The error names the temporary directory; name the bundle's
		// paths instead.
		return nil, host.InvalidFields("the policy bundle does not load", []sdk.FieldError{{Field: field, Detail: strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")}})
	}
	return rev, nil
}

// CheckBundle checks the paths of a policy bundle: relative,
// slash-separated, inside the bundle, not hidden, and of a Rego, JSON or
// YAML file.
func CheckBundle(files map[string]string, field string) error {
	if len(files) == 0 {
		return host.InvalidFields("the policy bundle is empty", []sdk.FieldError{{Field: field, Detail: "must hold at least one .rego file"}})
	}
	if len(files) > MaxBundleFiles {
		return host.InvalidFields("the policy bundle has too many files", []sdk.FieldError{{Field: field, Detail: fmt.Sprintf("holds %d files; at most %d", len(files), MaxBundleFiles)}})
	}
	var bad []sdk.FieldError
	rego := false
	for name := range files {
		detail := ""
		clean := path.Clean(name)
		switch ext := path.Ext(name); {
		case name == "" || clean != name || path.IsAbs(name) || strings.HasPrefix(clean, "../") || clean == ".." || strings.Contains(name, `\`):
			detail = "must be a clean relative path inside the bundle, such as workflow/review.rego"
		case strings.ContainsRune(name, 0) || !utf8.ValidString(name) || slices.ContainsFunc(strings.Split(name, "/"), func(c string) bool { return len(c) > 200 }):
			detail = "must be UTF-8 without NUL, each name at most 200 bytes"
		case dirOf(files, name):
			detail = "is both a file and a folder of the bundle"
		case strings.HasPrefix(path.Base(name), ".") || strings.Contains(name, "/."):
			detail = "must not be hidden"
		case ext != ".rego" && ext != ".json" && ext != ".yaml" && ext != ".yml":
			detail = "must be a .rego, .json or .yaml file"
		case ext == ".rego":
			rego = true
		}
		if detail != "" {
			bad = append(bad, sdk.FieldError{Field: field + "." + name, Detail: detail})
		}
	}
	if len(bad) > 0 {
		sort.Slice(bad, func(i, j int) bool { return bad[i].Field < bad[j].Field })
		return host.InvalidFields("the policy bundle has files it cannot hold", bad)
	}
	if !rego {
		return host.InvalidFields("the policy bundle has no policy", []sdk.FieldError{{Field: field, Detail: "must hold at least one .rego file"}})
	}
	return nil
}

// dirOf reports whether name is a folder of another path of files.
func dirOf(files map[string]string, name string) bool {
	for other := range files {
		if strings.HasPrefix(other, name+"/") {
			return true
		}
	}
	return false
}

// ReadBundle reads a policy directory into a bundle: every file a
// revision would load, by relative path.
func ReadBundle(dir string) (map[string]string, error) {
	digests, err := fileDigests(dir)
	if err != nil {
		return nil, err
	}
	files := make(map[string]string, len(digests))
	for name := range digests {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return nil, fmt.Errorf("reading the policy bundle: %w", err)
		}
		files[name] = string(b)
	}
	return files, nil
}
