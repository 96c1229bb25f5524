package web

import (
	"github.com/google/uuid"

	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/services/internal/problem"
)

// Request bodies decode into structs of pointers, so that a missing field
// can be told from a zero one; these helpers turn them into values, with a
// *problem.Error naming the field when one is missing or malformed.

// RequiredUUID parses the required UUID field.
func RequiredUUID(field string, v *string) (uuid.UUID, error) {
	if v == nil {
		return uuid.Nil, problem.Invalidf(field, "is required")
	}
	id, err := uuid.Parse(*v)
	if err != nil || id == uuid.Nil {
		return uuid.Nil, problem.Invalidf(field, "must be a non-nil UUID, got %q", *v)
	}
	return id, nil
}

// OptionalUUID parses the optional UUID field; nil when absent or null.
func OptionalUUID(field string, v *string) (*uuid.UUID, error) {
	if v == nil {
		return nil, nil
	}
	id, err := RequiredUUID(field, v)
	if err != nil {
		return nil, err
	}
	return &id, nil
}

// RequiredDate parses the required date field, YYYY-MM-DD.
func RequiredDate(field string, v *string) (payload.Date, error) {
	if v == nil {
		return payload.Date{}, problem.Invalidf(field, "is required")
	}
	d, err := payload.ParseDate(*v)
	if err != nil {
		return payload.Date{}, problem.Invalidf(field, "must be a date YYYY-MM-DD, got %q", *v)
	}
	return d, nil
}

// OptionalDate parses the optional date field, YYYY-MM-DD; the zero date
// when absent or null.
func OptionalDate(field string, v *string) (payload.Date, error) {
	if v == nil {
		return payload.Date{}, nil
	}
	return RequiredDate(field, v)
}

// RequiredNumber returns the required number field.
func RequiredNumber(field string, v *float64) (float64, error) {
	if v == nil {
		return 0, problem.Invalidf(field, "is required")
	}
	return *v, nil
}

// RequiredInt returns the required integer field.
func RequiredInt(field string, v *int) (int, error) {
	if v == nil {
		return 0, problem.Invalidf(field, "is required")
	}
	return *v, nil
}

// RequiredString returns the required string field.
func RequiredString(field string, v *string) (string, error) {
	if v == nil {
		return "", problem.Invalidf(field, "is required")
	}
	return *v, nil
}
