package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus/bustest"
)

// syncBuffer is a bytes.Buffer safe for the service's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestRunServesUntilStopped(t *testing.T) {
	srv := bustest.RunServer(t)
	if srv.External() {
		t.Skip("needs a server of its own")
	}
	addr := freeAddr(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var stderr syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"--nats", srv.URL(), "--http", addr, "--db", filepath.Join(t.TempDir(), "x.db")}, &stderr)
	}()
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 10*time.Millisecond, "never served: %s", &stderr)
	stop() // what SIGINT or SIGTERM does
	select {
	case c := <-code:
		assert.Equal(t, 0, c, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("did not shut down")
	}
	assert.Contains(t, stderr.String(), "stopped")
}

func TestRunFailures(t *testing.T) {
	var stderr syncBuffer
	assert.Equal(t, 2, run(context.Background(), []string{"--bogus"}, &stderr))
	assert.Equal(t, 1, run(context.Background(), []string{"--nats", "nats://127.0.0.1:1", "--http", freeAddr(t), "--db", filepath.Join(t.TempDir(), "x.db")}, &stderr))
	assert.Contains(t, stderr.String(), "connect")
}
