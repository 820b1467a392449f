package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

var (
	errTrailingData = errors.New("only one JSON value is allowed")
	errEmptyBody    = errors.New("empty body")
)

// readBody reads the request body within limit bytes and checks it is
// UTF-8. Over the limit is a 413.
func readBody(c *gin.Context, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, host.Errorf(host.ETOOLARGE, "the request body is larger than the limit of %d bytes", limit)
		}
		return nil, host.Errorf(host.EINVALID, "reading the request body: %v", err)
	}
	if !utf8.Valid(body) {
		return nil, malformed("the body is not valid UTF-8", []sdk.FieldError{{Field: "$", Detail: "contains bytes that are not UTF-8"}})
	}
	return body, nil
}

// decodeStrict decodes exactly one JSON value into v, refusing unknown
// fields. Errors name the field at fault, under prefix.
func decodeStrict(data []byte, v any, prefix string) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return decodeError(errEmptyBody, prefix)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return malformed("the body is truncated JSON", []sdk.FieldError{{Field: rootOr(prefix), Detail: "unexpected end of JSON input"}})
		}
		return decodeError(err, prefix, data)
	}
	if _, err := dec.Token(); err != io.EOF {
		return decodeError(errTrailingData, prefix)
	}
	return nil
}

// readJSON reads and strictly decodes the body into v.
func readJSON(c *gin.Context, limit int64, v any) error {
	body, err := readBody(c, limit)
	if err != nil {
		return err
	}
	return decodeStrict(body, v, "")
}

// rootOr names the whole body ("$") when there is no prefix.
func rootOr(prefix string) string {
	if prefix == "" {
		return "$"
	}
	return prefix
}
