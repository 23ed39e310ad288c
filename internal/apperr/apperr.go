// Package apperr is the one error type that crosses package boundaries in the service.
//
// Every layer (lakeFS client, catalog adapters, push/pull service, HTTP handlers) reports a
// failure the caller must see as an *Error carrying the HTTP status lakeFS would answer and a
// message that is safe to show: no secrets, no stack traces. The HTTP layer turns it into
// lakeFS's `{"message": "..."}` body; anything that is not an *Error becomes a 500 with a
// generic message, so an unexpected internal error can never leak details to a caller.
package apperr

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Error is a failure with the status code and message the API caller receives.
type Error struct {
	Status  int    // HTTP status code, e.g. http.StatusNotFound
	Message string // caller-visible, secret-free message
	Err     error  // optional cause, for logs and errors.Is/As; never shown to the caller
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an *Error with a formatted message.
func New(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error that keeps cause for logs and errors.Is/As.
func Wrap(status int, cause error, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...), Err: cause}
}

// Convenience constructors for the statuses the lakeFS contract uses.

func BadRequest(format string, args ...any) *Error {
	return New(http.StatusBadRequest, format, args...)
}

func Unauthorized(format string, args ...any) *Error {
	return New(http.StatusUnauthorized, format, args...)
}

func NotFound(format string, args ...any) *Error {
	return New(http.StatusNotFound, format, args...)
}

func Conflict(format string, args ...any) *Error {
	return New(http.StatusConflict, format, args...)
}

func PreconditionFailed(format string, args ...any) *Error {
	return New(http.StatusPreconditionFailed, format, args...)
}

func NotImplemented(format string, args ...any) *Error {
	return New(http.StatusNotImplemented, format, args...)
}

// Messages fixed by the lakeFS contract.
const (
	MsgAuthenticationFailed = "error authenticating request"
	MsgInsufficientPerms    = "insufficient permissions"
	MsgInvalidEndpoint      = "invalid API endpoint"
	MsgInternal             = "internal server error"
)

// StatusOf returns the HTTP status carried by err, or 500 when err carries none.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return http.StatusInternalServerError
}

// PublicMessage returns the caller-visible message for err. Errors that are not *Error
// are internal and get a generic message: their text may hold anything.
func PublicMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return MsgInternal
}

// Is reports whether err carries the given HTTP status.
func Is(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// Body is the lakeFS error body.
type Body struct {
	Message string `json:"message"`
}

// Write answers err as lakeFS does: its status and `{"message": ...}` as application/json.
func Write(w http.ResponseWriter, err error) {
	WriteStatus(w, StatusOf(err), PublicMessage(err))
}

// WriteStatus writes a lakeFS error body with the given status and message.
func WriteStatus(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Body{Message: message})
}
