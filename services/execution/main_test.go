package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	st "github.com/giia/events/services/internal/servicetest"
)

// TestRunServesUntilStopped: the command starts the service from its
// flags, serves its API and stops cleanly on SIGINT or SIGTERM (host.Main's
// other cases are tested there).
func TestRunServesUntilStopped(t *testing.T) {
	code, stderr := st.RunUntilStopped(t, run)
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "service stopped")
}
