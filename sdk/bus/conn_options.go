package bus

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// ConnectOption configures Connect. Options check their arguments and
// return an error wrapping ErrInvalidOption (or the file error) when one
// is unusable, so a misconfiguration fails at start-up, not at the first
// reconnect.
type ConnectOption func(*connectOptions) error

type connectOptions struct {
	name          string
	credsFile     string
	user          string
	password      string
	inboxPrefix   string
	tlsConfig     *tls.Config
	maxReconnects int
	reconnectWait time.Duration
	timeout       time.Duration
	meterProvider metric.MeterProvider
}

func defaultConnectOptions() connectOptions {
	return connectOptions{
		maxReconnects: -1,
		reconnectWait: 250 * time.Millisecond,
		timeout:       2 * time.Second,
	}
}

// WithName sets the client name the server shows in its monitoring
// endpoints, typically the service's name.
func WithName(name string) ConnectOption {
	return func(o *connectOptions) error {
		if name == "" {
			return fmt.Errorf("%w: empty connection name", ErrInvalidOption)
		}
		o.name = name
		return nil
	}
}

// WithCredentialsFile authenticates with a NATS credentials file (a user
// JWT and its nkey seed). The file must exist.
func WithCredentialsFile(path string) ConnectOption {
	return func(o *connectOptions) error {
		if path == "" {
			return fmt.Errorf("%w: empty credentials file path", ErrInvalidOption)
		}
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%w: credentials file: %w", ErrInvalidOption, err)
		}
		o.credsFile = path
		return nil
	}
}

// WithUserInfo authenticates as user with password, as the users of the
// authorization block that eventgen's "auth" command writes (one per
// service of the catalog, plus spec.AdminUser). A URL's own user and password
// take precedence.
func WithUserInfo(user, password string) ConnectOption {
	return func(o *connectOptions) error {
		if user == "" {
			return fmt.Errorf("%w: empty user name", ErrInvalidOption)
		}
		o.user, o.password = user, password
		return nil
	}
}

// WithInboxPrefix makes the connection's inboxes, on which replies and
// pulled messages arrive, start with prefix instead of "_INBOX". A service
// under the permissions of spec.Permissions connects with
// WithInboxPrefix(spec.InboxPrefix(service)): it may subscribe to nothing else.
func WithInboxPrefix(prefix string) ConnectOption {
	return func(o *connectOptions) error {
		if prefix == "" || strings.ContainsAny(prefix, "*> \t\r\n") || strings.HasPrefix(prefix, ".") ||
			strings.HasSuffix(prefix, ".") || strings.Contains(prefix, "..") {
			return fmt.Errorf("%w: inbox prefix %q (want dot-separated tokens without wildcards, such as \"_INBOX.execution\")", ErrInvalidOption, prefix)
		}
		o.inboxPrefix = prefix
		return nil
	}
}

// WithTLSConfig connects over TLS with cfg.
func WithTLSConfig(cfg *tls.Config) ConnectOption {
	return func(o *connectOptions) error {
		if cfg == nil {
			return fmt.Errorf("%w: nil TLS config", ErrInvalidOption)
		}
		o.tlsConfig = cfg
		return nil
	}
}

// WithTLSFiles connects over TLS using PEM files: certFile and keyFile
// hold the client certificate for mutual TLS (both or neither), caFile the
// authorities that sign the server's certificate (empty: the system's).
// The files are read when the option is applied.
func WithTLSFiles(certFile, keyFile, caFile string) ConnectOption {
	return func(o *connectOptions) error {
		if certFile == "" && keyFile == "" && caFile == "" {
			return fmt.Errorf("%w: no TLS file given", ErrInvalidOption)
		}
		if (certFile == "") != (keyFile == "") {
			return fmt.Errorf("%w: TLS certificate and key files go together (got cert %q, key %q)", ErrInvalidOption, certFile, keyFile)
		}
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if certFile != "" {
			cert, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				return fmt.Errorf("%w: TLS client certificate: %w", ErrInvalidOption, err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		if caFile != "" {
			pem, err := os.ReadFile(caFile)
			if err != nil {
				return fmt.Errorf("%w: TLS CA file: %w", ErrInvalidOption, err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return fmt.Errorf("%w: TLS CA file %s holds no PEM certificate", ErrInvalidOption, caFile)
			}
			cfg.RootCAs = pool
		}
		o.tlsConfig = cfg
		return nil
	}
}

// WithReconnect sets how many times to reconnect after losing the server
// (-1: forever, the default) and how long to wait between attempts
// (default 250ms).
func WithReconnect(maxReconnects int, wait time.Duration) ConnectOption {
	return func(o *connectOptions) error {
		if maxReconnects < -1 {
			return fmt.Errorf("%w: max reconnects %d (want -1 for forever, or >= 0)", ErrInvalidOption, maxReconnects)
		}
		if wait <= 0 {
			return fmt.Errorf("%w: reconnect wait %v (want > 0)", ErrInvalidOption, wait)
		}
		o.maxReconnects = maxReconnects
		o.reconnectWait = wait
		return nil
	}
}

// WithConnectTimeout bounds the initial connection attempt to each server
// (default 2s).
func WithConnectTimeout(d time.Duration) ConnectOption {
	return func(o *connectOptions) error {
		if d <= 0 {
			return fmt.Errorf("%w: connect timeout %v (want > 0)", ErrInvalidOption, d)
		}
		o.timeout = d
		return nil
	}
}

// WithMeterProvider records the metrics of the connection's publishers
// and subscriptions through mp instead of the global MeterProvider, for
// services sharing a process that each export their own series.
func WithMeterProvider(mp metric.MeterProvider) ConnectOption {
	return func(o *connectOptions) error {
		if mp == nil {
			return fmt.Errorf("%w: nil meter provider", ErrInvalidOption)
		}
		o.meterProvider = mp
		return nil
	}
}
