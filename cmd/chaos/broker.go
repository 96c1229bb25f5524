package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// broker is an in-process nats-server with JetStream on 127.0.0.1 that
// can be shut down and started again on the same port and store
// directory, as a restarted process would be. It is bustest.Server for a
// program rather than a test.
type broker struct {
	mu   sync.Mutex
	opts server.Options
	srv  *server.Server
}

// newBroker starts a server storing under dir, on a random port unless
// configure sets one.
func newBroker(dir string, configure ...func(*server.Options)) (*broker, error) {
	b := &broker{opts: server.Options{
		ServerName: "chaos",
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		NoLog:      true,
		NoSigs:     true,
		JetStream:  true,
		StoreDir:   dir,
	}}
	for _, c := range configure {
		c(&b.opts)
	}
	if err := b.Start(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.opts.Port = b.srv.Addr().(*net.TCPAddr).Port // kept for restarts
	b.mu.Unlock()
	return b, nil
}

// Name returns the server's name.
func (b *broker) Name() string { return b.opts.ServerName }

// URL returns the client URL.
func (b *broker) URL() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return fmt.Sprintf("nats://%s:%d", b.opts.Host, b.opts.Port)
}

// Server returns the running server, nil while shut down.
func (b *broker) Server() *server.Server {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.srv
}

// Start starts the server (again), on the same port and store. A port
// just released can take a moment to be free: Start retries for up to
// ten seconds.
func (b *broker) Start() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.srv != nil {
		return nil
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		opts := b.opts // NewServer keeps and amends its options
		srv, err := server.NewServer(&opts)
		if err != nil {
			return fmt.Errorf("broker %s: %w", b.opts.ServerName, err)
		}
		srv.Start()
		if srv.ReadyForConnections(5 * time.Second) {
			b.srv = srv
			return nil
		}
		srv.Shutdown()
		srv.WaitForShutdown()
		if time.Now().After(deadline) {
			return fmt.Errorf("broker %s: not ready on port %d", b.opts.ServerName, b.opts.Port)
		}
	}
}

// Shutdown stops the server, keeping its port and store for Start. The
// server closes its clients' connections and flushes its store, as a
// process stopped by SIGTERM would.
func (b *broker) Shutdown() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.srv == nil {
		return
	}
	b.srv.Shutdown()
	b.srv.WaitForShutdown()
	b.srv = nil
}

// cluster is three (or more) brokers joined by cluster routes, each with
// its own store, forming one JetStream cluster.
type cluster struct {
	nodes []*broker
}

// freePort returns a port free on 127.0.0.1 at the time of the call.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// newCluster starts n nodes named n1..nN, node i storing under dirs[i].
func newCluster(dirs []string) (*cluster, error) {
	n := len(dirs)
	clientPorts := make([]int, n)
	routePorts := make([]int, n)
	var routes []string
	for i := range n {
		var err error
		if clientPorts[i], err = freePort(); err != nil {
			return nil, err
		}
		if routePorts[i], err = freePort(); err != nil {
			return nil, err
		}
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", routePorts[i]))
	}
	c := &cluster{}
	errs := make([]error, n)
	c.nodes = make([]*broker, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.nodes[i], errs[i] = newBroker(dirs[i], func(o *server.Options) {
				o.ServerName = fmt.Sprintf("n%d", i+1)
				o.Port = clientPorts[i]
				o.Cluster = server.ClusterOpts{Name: "giia-chaos", Host: "127.0.0.1", Port: routePorts[i]}
				o.Routes = server.RoutesFromStr(strings.Join(routes, ","))
			})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.Shutdown()
		return nil, err
	}
	return c, nil
}

// URLs returns every node's client URL, comma-separated, as a client of
// the cluster is configured.
func (c *cluster) URLs() string {
	urls := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		urls[i] = n.URL()
	}
	return strings.Join(urls, ",")
}

// Node returns the node called name.
func (c *cluster) Node(name string) *broker {
	for _, n := range c.nodes {
		if n.Name() == name {
			return n
		}
	}
	return nil
}

// WaitMetaLeader waits until the running nodes agree on a JetStream meta
// leader and each is current with it.
func (c *cluster) WaitMetaLeader(ctx context.Context) error {
	return poll(ctx, "a JetStream meta leader", func() (bool, error) {
		leaders := 0
		for _, n := range c.nodes {
			srv := n.Server()
			if srv == nil {
				continue
			}
			if !srv.JetStreamIsCurrent() {
				return false, nil
			}
			if srv.JetStreamIsLeader() {
				leaders++
			}
		}
		return leaders == 1, nil
	})
}

// Shutdown stops every node.
func (c *cluster) Shutdown() {
	for _, n := range c.nodes {
		if n != nil {
			n.Shutdown()
		}
	}
}
