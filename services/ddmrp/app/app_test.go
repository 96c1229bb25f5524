package app_test

import (
	"context"
	"testing"

	"github.com/giia/events/sdk/events"
	"github.com/giia/events/services/ddmrp/app"
	"github.com/giia/events/services/internal/host"
	st "github.com/giia/events/services/internal/servicetest"
)

// TestLifecycle: what every service shares (services/internal/host).
func TestLifecycle(t *testing.T) {
	st.RunLifecycleSuite(t, st.App{
		Name:     events.ServiceDDMRP,
		Validate: func(f host.Flags) error { return app.FromFlags(f).Validate() },
		Start: func(ctx context.Context, f host.Flags) (st.Service, error) {
			return app.Start(ctx, app.FromFlags(f))
		},
	})
}
