package api

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// jsonPathAt returns the path ("items[1].managed") of the value that ends
// at or after byte offset of data, for errors of encoding/json, which name
// fields without array indexes. It returns "" when data is not JSON enough
// to tell.
func jsonPathAt(data []byte, offset int64) string {
	type frame struct {
		array   bool
		index   int
		key     string
		haveKey bool
	}
	var stack []frame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			switch {
			case f.array && f.index >= 0:
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			case !f.array && f.haveKey:
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			}
		}
		return b.String()
	}
	// valueDone marks the end of a value in the enclosing container.
	valueDone := func() {
		if n := len(stack); n > 0 && !stack[n-1].array {
			stack[n-1].haveKey = false
		}
	}
	// valueStart marks the start of a value in the enclosing container.
	valueStart := func() {
		if n := len(stack); n > 0 && stack[n-1].array {
			stack[n-1].index++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return path()
		}
		reached := dec.InputOffset() >= offset
		switch tok {
		case json.Delim('{'), json.Delim('['):
			valueStart()
			stack = append(stack, frame{array: tok == json.Delim('['), index: -1})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if reached {
				return path()
			}
			valueDone()
			continue
		default:
			if n := len(stack); n > 0 && !stack[n-1].array && !stack[n-1].haveKey {
				stack[n-1].key, stack[n-1].haveKey = tok.(string), true
				if reached {
					return path()
				}
				continue
			}
			valueStart()
			if reached {
				return path()
			}
			valueDone()
			continue
		}
		if reached {
			return path()
		}
	}
}
