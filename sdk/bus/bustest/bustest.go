// Package bustest starts an in-process NATS server with JetStream for
// tests: random port, store directory under t.TempDir(), shut down when
// the test ends. Only tests import it.
//
// When the environment variable NATS_TEST_URL is set, RunServer starts
// nothing and hands out that URL instead, so the same tests run against an
// external server; tests that need to stop or configure the server skip.
// Such tests should use stream names and subjects of their own (a random
// prefix) and delete what they create.
package bustest

import (
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// EnvURL is the environment variable naming an external server to test
// against instead of an in-process one.
const EnvURL = "NATS_TEST_URL"

// Option adjusts the in-process server's options before it starts (users
// and permissions, TLS, limits). A test given options skips when
// NATS_TEST_URL is set, since an external server cannot take them.
type Option func(*server.Options)

// Server is an in-process NATS server, or the external one of
// NATS_TEST_URL.
type Server struct {
	t        testing.TB
	external string

	mu   sync.Mutex
	opts server.Options
	srv  *server.Server
}

// RunServer starts a NATS server with JetStream on a random port, its
// store in t.TempDir(), and shuts it down when the test ends. It fails the
// test if the server does not start.
func RunServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	if url := os.Getenv(EnvURL); url != "" {
		if len(opts) > 0 {
			t.Skipf("test configures the NATS server; %s=%s is external", EnvURL, url)
		}
		return &Server{t: t, external: url}
	}
	s := &Server{t: t, opts: server.Options{
		ServerName: "bustest",
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		NoLog:      true,
		NoSigs:     true,
		JetStream:  true,
		StoreDir:   t.TempDir(),
	}}
	for _, o := range opts {
		o(&s.opts)
	}
	s.start()
	// Keep the port for restarts.
	s.opts.Port = s.srv.Addr().(*net.TCPAddr).Port
	t.Cleanup(s.shutdown)
	return s
}

// URL returns the URL clients connect to.
func (s *Server) URL() string {
	if s.external != "" {
		return s.external
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("nats://%s:%d", s.opts.Host, s.opts.Port)
}

// External reports whether the server is the one of NATS_TEST_URL.
func (s *Server) External() bool { return s.external != "" }

// NATSServer returns the running in-process server, nil when external or
// shut down.
func (s *Server) NATSServer() *server.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv
}

// Shutdown stops the server, keeping its port and store directory for
// Start. On an external server it skips the test.
func (s *Server) Shutdown() {
	s.t.Helper()
	s.skipExternal("Shutdown")
	s.shutdown()
}

// Start starts the server again after Shutdown, on the same port with the
// same store directory, so streams and consumers survive. On an external
// server it skips the test.
func (s *Server) Start() {
	s.t.Helper()
	s.skipExternal("Start")
	s.start()
}

// Restart is Shutdown then Start.
func (s *Server) Restart() {
	s.t.Helper()
	s.Shutdown()
	s.Start()
}

func (s *Server) skipExternal(what string) {
	s.t.Helper()
	if s.external != "" {
		s.t.Skipf("%s needs the in-process server; %s is set", what, EnvURL)
	}
}

func (s *Server) start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return
	}
	opts := s.opts
	var srv *server.Server
	var err error
	// The port of a server just shut down can take a moment to free.
	deadline := time.Now().Add(5 * time.Second)
	for {
		srv, err = server.NewServer(&opts)
		if err != nil {
			s.t.Fatalf("bustest: new server: %v", err)
		}
		srv.Start()
		if srv.ReadyForConnections(5 * time.Second) {
			break
		}
		srv.Shutdown()
		srv.WaitForShutdown()
		if time.Now().After(deadline) {
			s.t.Fatalf("bustest: server on port %d not ready", opts.Port)
		}
	}
	s.srv = srv
}

func (s *Server) shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return
	}
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
	s.srv = nil
}
