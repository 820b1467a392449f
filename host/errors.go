package host

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/ordergate/ordergate/sdk"
)

// Error codes. The API maps each to an HTTP status.
const (
	ECONFLICT     = "conflict"               // the request conflicts with stored state
	EINTERNAL     = "internal"               // a fault of ours
	EINVALID      = "invalid"                // the input is not acceptable
	EMETHOD       = "method_not_allowed"     // the route exists, not with this method
	EUNSUPPORTED  = "unsupported_media_type" // the body's Content-Type is not accepted
	EMALFORMED    = "malformed"              // the input cannot be read (bad JSON, bad UTF-8)
	ENOTFOUND     = "not_found"              // the thing does not exist (or is not yours)
	EUNAUTHORIZED = "unauthorized"           // no valid credentials
	EFORBIDDEN    = "forbidden"              // valid credentials, not allowed
	ETOOLARGE     = "too_large"              // the request body is over the limit
	EUNAVAILABLE  = "unavailable"            // not ready (no policy loaded, shutting down)
	ETOOMANY      = "too_many_requests"      // the key is over its rate limit
	ENOTIMPL      = "not_implemented"        // this host's configuration does not do it
	EGONE         = "gone"                   // it existed and was removed (events past their retention)
)

// Error is the error type of the host's domain: a code the API maps to an
// HTTP status, a message safe to show to the caller, and the fields at fault.
type Error struct {
	Code    string
	Message string
	Fields  []sdk.FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, sdk.ValidationError(e.Fields).Error())
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, and
// EINTERNAL otherwise.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EINTERNAL
}

// InvalidFields turns a validation error into an EINVALID *Error.
func InvalidFields(message string, fields []sdk.FieldError) *Error {
	return &Error{Code: EINVALID, Message: message, Fields: fields}
}

// httpStatus maps the error codes to HTTP statuses.
var httpStatus = map[string]int{
	EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	EMETHOD:       http.StatusMethodNotAllowed,
	EINVALID:      http.StatusUnprocessableEntity,
	EMALFORMED:    http.StatusBadRequest,
	ECONFLICT:     http.StatusConflict,
	ENOTFOUND:     http.StatusNotFound,
	EUNAUTHORIZED: http.StatusUnauthorized,
	EFORBIDDEN:    http.StatusForbidden,
	ETOOLARGE:     http.StatusRequestEntityTooLarge,
	EUNAVAILABLE:  http.StatusServiceUnavailable,
	ETOOMANY:      http.StatusTooManyRequests,
	ENOTIMPL:      http.StatusNotImplemented,
	EGONE:         http.StatusGone,
	EINTERNAL:     http.StatusInternalServerError,
}

// HTTPStatus is the HTTP status of an error code (500 for one it does
// not know), for the API's problem documents and the console's pages.
func HTTPStatus(code string) int {
	if s := httpStatus[code]; s != 0 {
		return s
	}
	return http.StatusInternalServerError
}
