package bustest_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus/bustest"
)

func TestRunServerRestartKeepsPortAndStore(t *testing.T) {
	srv := bustest.RunServer(t)
	if srv.External() {
		t.Skip("needs the in-process server")
	}
	url := srv.URL()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	require.NoError(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.FileStorage})
	require.NoError(t, err)
	_, err = js.Publish(ctx, "s.x", []byte("kept"))
	require.NoError(t, err)

	srv.Restart()
	assert.Equal(t, url, srv.URL(), "same port")
	require.NotNil(t, srv.NATSServer())
	require.Eventually(t, nc.IsConnected, 10*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool {
		s, err := js.Stream(ctx, "S")
		return err == nil && s.CachedInfo().State.Msgs == 1
	}, 10*time.Second, 20*time.Millisecond, "same store")

	srv.Shutdown()
	assert.Nil(t, srv.NATSServer())
	srv.Shutdown() // twice is fine
	srv.Start()
	srv.Start() // already running
	assert.NotNil(t, srv.NATSServer())
}

func TestRunServerOptions(t *testing.T) {
	srv := bustest.RunServer(t, func(o *server.Options) { o.ServerName = "custom" })
	assert.Equal(t, "custom", srv.NATSServer().Name())
}

func TestExternalServer(t *testing.T) {
	t.Setenv(bustest.EnvURL, "nats://example.invalid:4222")
	srv := bustest.RunServer(t)
	assert.True(t, srv.External())
	assert.Equal(t, "nats://example.invalid:4222", srv.URL())
	assert.Nil(t, srv.NATSServer())

	for _, name := range []string{"restart", "shutdown", "start"} {
		ok := t.Run(name, func(t *testing.T) {
			s := bustest.RunServer(t)
			switch name {
			case "restart":
				s.Restart()
			case "shutdown":
				s.Shutdown()
			default:
				s.Start()
			}
			t.Error("not skipped")
		})
		assert.True(t, ok)
	}
	t.Run("options", func(t *testing.T) {
		bustest.RunServer(t, func(*server.Options) {})
		t.Error("not skipped")
	})
}
