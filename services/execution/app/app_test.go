package app_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/events"
	"github.com/giia/events/services/execution/app"
	st "github.com/giia/events/services/internal/servicetest"
)

// TestLifecycle: what every service shares (services/internal/host).
func TestLifecycle(t *testing.T) {
	st.RunLifecycleSuite(t, st.App{
		Name:     events.ServiceExecution,
		Validate: app.Validate,
		Start:    app.Start,
	})
}

func config(t *testing.T, env *st.Env) app.Config {
	return app.Config{NATSURL: env.Server.URL(), HTTPAddr: "127.0.0.1:0", DBPath: filepath.Join(t.TempDir(), "e.db"), Logger: st.Quiet(), HTTPAuth: env.Issuer.Config()}
}

// TestEventsSurviveOutageAndRestart: with NATS down, requests still
// succeed at once; their events wait in the outbox through a shutdown and
// leave, once each, when the next run of the service can publish them.
func TestEventsSurviveOutageAndRestart(t *testing.T) {
	env := st.New(t)
	cfg := config(t, env)
	svc, err := app.Start(context.Background(), cfg)
	require.NoError(t, err)
	p := st.NewProduct("PIN-4")
	env.PublishProduct(p)
	st.Eventually(t, 5*time.Second, func() bool {
		return env.Do(http.MethodGet, svc.URL()+"/products/"+p.ID.String(), nil).Status == http.StatusOK
	}, "execution never learnt the product")
	env.Flush(svc.Outbox())
	seq := env.LastSeq()

	env.Server.Shutdown()
	location := uuid.New()
	for i := range 5 {
		t0 := time.Now()
		env.Do(http.MethodPost, svc.URL()+"/inventory/adjustments", map[string]any{
			"product_id": p.ID, "location_id": location, "delta": i + 1, "reason": "adjustment",
		}).Must(t, http.StatusCreated)
		assert.Less(t, time.Since(t0), 2*time.Second, "a request does not wait for NATS")
	}
	assert.Equal(t, int64(5), svc.Outbox().Stats().Pending)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	// With NATS down the subscription and the connection cannot drain
	// cleanly; events left in the outbox are not an error.
	if err := svc.Shutdown(ctx); err != nil {
		assert.NotContains(t, err.Error(), "outbox")
	}

	env.Server.Start()
	again, err := app.Start(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = again.Shutdown(ctx)
	})
	env.Flush(again.Outbox())
	msgs := env.WaitMessages(seq, 5*time.Second, st.Has(events.SubjectExecutionInventoryUpdated, 5))
	require.Len(t, msgs, 5, "each once: %v", st.Subjects(msgs))
	for i, m := range msgs {
		var u events.InventoryUpdated
		require.NoError(t, m.Decode(&u))
		assert.Equal(t, float64(i+1), u.Delta, "in commit order")
	}
}
