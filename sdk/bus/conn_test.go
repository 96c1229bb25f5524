package bus_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
)

func TestConnect(t *testing.T) {
	srv := runServer(t)
	c, err := bus.Connect(srv.URL(), bus.WithName("orders"), bus.WithConnectTimeout(time.Second), bus.WithReconnect(3, 10*time.Millisecond))
	require.NoError(t, err)
	assert.True(t, c.NATS().IsConnected())
	assert.NotNil(t, c.JetStream())
	assert.Equal(t, "orders", c.NATS().Opts.Name)
	assert.Equal(t, 3, c.NATS().Opts.MaxReconnect)
	require.NoError(t, c.Close())
	assert.True(t, c.NATS().IsClosed())
	require.NoError(t, c.Close(), "closing twice is fine")
}

func TestConnectErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o600))
	missing := filepath.Join(dir, "missing.pem")

	for name, opt := range map[string]bus.ConnectOption{
		"empty name":          bus.WithName(""),
		"empty creds":         bus.WithCredentialsFile(""),
		"missing creds":       bus.WithCredentialsFile(missing),
		"nil TLS config":      bus.WithTLSConfig(nil),
		"no TLS files":        bus.WithTLSFiles("", "", ""),
		"cert without key":    bus.WithTLSFiles(notPEM, "", ""),
		"missing cert":        bus.WithTLSFiles(missing, missing, ""),
		"missing CA":          bus.WithTLSFiles("", "", missing),
		"CA not PEM":          bus.WithTLSFiles("", "", notPEM),
		"negative reconnects": bus.WithReconnect(-2, time.Second),
		"zero reconnect wait": bus.WithReconnect(1, 0),
		"zero timeout":        bus.WithConnectTimeout(0),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := bus.Connect("nats://127.0.0.1:4222", opt)
			assert.ErrorIs(t, err, bus.ErrInvalidOption)
		})
	}
	_, err := bus.Connect("nats://127.0.0.1:4222", bus.WithCredentialsFile(missing))
	assert.ErrorIs(t, err, os.ErrNotExist)

	// Nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	_, err = bus.Connect("nats://"+addr, bus.WithConnectTimeout(200*time.Millisecond))
	assert.ErrorIs(t, err, bus.ErrConnect)

	// A credentials file that is not one fails at connect.
	srv := runServer(t)
	_, err = bus.Connect(srv.URL(), bus.WithCredentialsFile(notPEM))
	assert.ErrorIs(t, err, bus.ErrConnect)
}

func TestConnectTLS(t *testing.T) {
	dir := t.TempDir()
	ca, caKey := newCA(t)
	caFile := writePEM(t, dir, "ca.pem", "CERTIFICATE", ca.Raw)
	serverCert := newLeaf(t, ca, caKey, "server", x509.ExtKeyUsageServerAuth)
	clientCert := newLeaf(t, ca, caKey, "client", x509.ExtKeyUsageClientAuth)
	clientCertFile := writePEM(t, dir, "client.pem", "CERTIFICATE", clientCert.Certificate[0])
	keyDER, err := x509.MarshalPKCS8PrivateKey(clientCert.PrivateKey)
	require.NoError(t, err)
	clientKeyFile := writePEM(t, dir, "client-key.pem", "PRIVATE KEY", keyDER)

	pool := x509.NewCertPool()
	pool.AddCert(ca)
	srv := runServer(t, func(o *server.Options) {
		o.TLSConfig = &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{serverCert},
			ClientCAs:    pool,
			ClientAuth:   tls.RequireAndVerifyClientCert,
		}
		o.TLS, o.TLSVerify, o.TLSTimeout = true, true, 2
	})

	c, err := bus.Connect(srv.URL(), bus.WithTLSFiles(clientCertFile, clientKeyFile, caFile))
	require.NoError(t, err)
	assert.True(t, c.NATS().IsConnected())
	cat := newCatalog(t)
	require.NoError(t, bus.EnsureTopology(ctx(t), c, cat.Catalog), "JetStream over TLS")
	require.NoError(t, c.Close())

	c, err = bus.Connect(srv.URL(), bus.WithTLSConfig(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{clientCert}, MinVersion: tls.VersionTLS12}))
	require.NoError(t, err)
	require.NoError(t, c.Close())

	_, err = bus.Connect(srv.URL(), bus.WithTLSFiles("", "", caFile), bus.WithConnectTimeout(time.Second))
	assert.ErrorIs(t, err, bus.ErrConnect, "the server wants a client certificate")
	_, err = bus.Connect(srv.URL(), bus.WithConnectTimeout(time.Second))
	assert.ErrorIs(t, err, bus.ErrConnect, "the server wants TLS")
}

func newCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "bus test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return cert, key
}

func newLeaf(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, name string, usage x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return path
}

func TestCloseWhileDisconnected(t *testing.T) {
	srv := runServer(t)
	c, err := bus.Connect(srv.URL(), bus.WithReconnect(-1, 20*time.Millisecond))
	require.NoError(t, err)
	srv.Shutdown()
	require.Eventually(t, func() bool { return c.NATS().IsReconnecting() }, 10*time.Second, 10*time.Millisecond)
	assert.Error(t, c.Close(), "pending data may be lost: say so")
	assert.True(t, c.NATS().IsClosed())
}
