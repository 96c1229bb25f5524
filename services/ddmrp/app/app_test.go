package app_test

import (
	"testing"

	"github.com/giia/events/sdk/events"
	"github.com/giia/events/services/ddmrp/app"
	st "github.com/giia/events/services/internal/servicetest"
)

// TestLifecycle: what every service shares (services/internal/host).
func TestLifecycle(t *testing.T) {
	st.RunLifecycleSuite(t, st.App{
		Name:     events.ServiceDDMRP,
		Validate: app.Validate,
		Start:    app.Start,
	})
}
