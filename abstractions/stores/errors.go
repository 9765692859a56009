package stores

import (
	"errors"
	"fmt"
)

// Sentinel errors (E1). Every error a store returns for one of these
// conditions satisfies errors.Is against the matching sentinel.
var (
	// ErrNotFound reports that the addressed record does not exist.
	ErrNotFound = errors.New("orchestrix: not found")
	// ErrAlreadyExists reports a duplicate id, schedule name or live unique key.
	ErrAlreadyExists = errors.New("orchestrix: already exists")
	// ErrConflict reports a conditional write whose condition did not hold
	// (stale attempt token, stale next run, lost lease). The store is unchanged.
	ErrConflict = errors.New("orchestrix: conflict")
	// ErrInvalidArgument reports bad input; the error names the field.
	ErrInvalidArgument = errors.New("orchestrix: invalid argument")
	// ErrClosed reports a call on a closed store.
	ErrClosed = errors.New("orchestrix: store is closed")
	// ErrNotSupported reports an operation the driver does not implement.
	ErrNotSupported = errors.New("orchestrix: not supported")
)

// FieldError is the ErrInvalidArgument a caller gets for a bad field. Field is
// the Go field or parameter name, for example "Job.Queue" or "limit".
type FieldError struct {
	Field  string
	Reason string
}

// Error implements error.
func (e *FieldError) Error() string {
	return fmt.Sprintf("orchestrix: invalid argument %s: %s", e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidArgument) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalidArgument }

// InvalidField returns a *FieldError for field with a formatted reason.
func InvalidField(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
