package problem_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/services/internal/problem"
)

func TestProblem(t *testing.T) {
	assert.Equal(t, "invalid: lines[0].quantity: must be above 0, got -1", problem.Invalidf("lines[0].quantity", "must be above 0, got %d", -1).Error())
	assert.Equal(t, "not found: no order", problem.NotFoundf("", "no order").Error())
	assert.Equal(t, "conflict: delta: too much", problem.Conflictf("delta", "too much").Error())
	assert.Equal(t, "Kind(9)", problem.Kind(9).String())

	wrapped := fmt.Errorf("ship: %w", problem.Conflictf("lines", "closed"))
	p, ok := problem.As(wrapped)
	require.True(t, ok)
	assert.Equal(t, problem.Conflict, p.Kind)
	_, ok = problem.As(errors.New("plain"))
	assert.False(t, ok)
}
