package custosstore

import "errors"

// Codes of the errors this package returns; they are the agent's codes for the same failures
// (agent/errors.ts), so a node can handle both the same way.
const (
	CodeCorruptFile        = "CORRUPT_FILE"
	CodeNotFound           = "NOT_FOUND"
	CodeInvalidParameters  = "INVALID_PARAMETERS"
	CodePermissionDenied   = "PERMISSION_DENIED"
	CodeConflict           = "CONFLICT"
	CodeFailedPrecondition = "FAILED_PRECONDITION"
)

// Error is a coded error with a sentence a person can act on. It never contains key material.
type Error struct {
	Code    string
	Message string
	// Cause is the underlying error, for logs; it is not part of Error().
	Cause error
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func (e *Error) Unwrap() error { return e.Cause }

// CodeOf returns the code of a *Error anywhere in err's chain, or "" when there is none.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func newError(code, message string, cause error) *Error {
	return &Error{Code: code, Message: message, Cause: cause}
}
