package sdktest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVendorGuideExample builds the vendor guide's complete connector
// (sdk/README.md, "Example: a complete connector": each file is a ```go
// block after a line naming it, such as `hello.go`) as a module of its
// own against this checkout, as the guide tells a vendor to, and runs its
// tests, which are the conformance kit run on it. A guide whose example
// does not build or pass fails here.
func TestVendorGuideExample(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module of its own")
	}
	guide, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(guide)
	start := strings.Index(text, "## Example: a complete connector")
	if start < 0 {
		t.Fatal(`sdk/README.md has no section "## Example: a complete connector"`)
	}
	section := text[start:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	files := regexp.MustCompile("(?s)`([a-z_]+\\.go)`[^\n]*\n\n```go\n(.*?)```").FindAllStringSubmatch(section, -1)
	names := map[string]bool{}
	for _, f := range files {
		names[f[1]] = true
	}
	for _, want := range []string{"main.go", "hello.go", "hello_test.go"} {
		if !names[want] {
			t.Fatalf("the example has no %s (found %v)", want, names)
		}
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module example.com/ordergate-connector-hello\n\ngo 1.26\n\nrequire github.com/ordergate/ordergate v0.0.0\n\nreplace github.com/ordergate/ordergate => " + root + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f[1]), []byte(f[2]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"mod", "tidy"},
		{"vet", "./..."},
		{"test", "-count=1", "./..."},
		{"build", "-o", filepath.Join(dir, "ordergate-connector-hello"), "."},
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s in the guide's example: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
