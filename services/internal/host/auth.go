package host

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/spec"
)

// NATSAuth is how a service proves who it is to NATS: a user and a
// password file, or a credentials file, plus TLS files. The zero value
// connects without authentication, as on the embedded demo server.
type NATSAuth struct {
	// User is the NATS user; with a PasswordFile it defaults to the
	// service's catalog user (its name, as catalog/nats-auth.conf names
	// it).
	User string
	// PasswordFile holds the user's password (a trailing newline is not
	// part of it). The password itself is never a flag or a variable, so
	// it shows in no process list or environment dump.
	PasswordFile string
	// CredsFile is a NATS credentials file (a user JWT and its NKey seed),
	// instead of a user and password.
	CredsFile string
	// TLSCert and TLSKey are the client certificate for mutual TLS (both
	// or neither); TLSCA the authorities of the server's certificate
	// (empty: the system's). Any of them connects over TLS.
	TLSCert, TLSKey, TLSCA string
}

// validate reports the combinations that cannot work.
func (a NATSAuth) validate(service string) error {
	var errs []error
	if a.CredsFile != "" && (a.PasswordFile != "" || a.User != "") {
		errs = append(errs, fmt.Errorf("%s: a credentials file (--nats-creds) or a user and password file (--nats-user, --nats-password-file), not both", service))
	}
	if a.User != "" && a.PasswordFile == "" {
		errs = append(errs, fmt.Errorf("%s: the NATS user %q needs a password file (--nats-password-file)", service, a.User))
	}
	if (a.TLSCert == "") != (a.TLSKey == "") {
		errs = append(errs, fmt.Errorf("%s: the TLS certificate and key files go together (--nats-tls-cert, --nats-tls-key)", service))
	}
	return errors.Join(errs...)
}

// user is the NATS user the service connects as, "" without one.
func (a NATSAuth) user(service string) string {
	switch {
	case a.User != "":
		return a.User
	case a.PasswordFile != "":
		return service
	}
	return ""
}

// connectOptions are the bus options of a: its credentials and TLS, and
// always the service's own inbox prefix, the only inboxes the service's
// user may subscribe to (spec.Permissions).
func (a NATSAuth) connectOptions(service string) ([]bus.ConnectOption, error) {
	opts := []bus.ConnectOption{bus.WithName(service + "-service"), bus.WithInboxPrefix(spec.InboxPrefix(service))}
	if a.PasswordFile != "" {
		raw, err := os.ReadFile(a.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("%s: NATS password file: %w", service, err)
		}
		password := strings.TrimRight(string(raw), "\r\n")
		if password == "" {
			return nil, fmt.Errorf("%s: NATS password file %s is empty", service, a.PasswordFile)
		}
		opts = append(opts, bus.WithUserInfo(a.user(service), password))
	}
	if a.CredsFile != "" {
		opts = append(opts, bus.WithCredentialsFile(a.CredsFile))
	}
	if a.TLSCert != "" || a.TLSKey != "" || a.TLSCA != "" {
		opts = append(opts, bus.WithTLSFiles(a.TLSCert, a.TLSKey, a.TLSCA))
	}
	return opts, nil
}

// refused adds to err, when the server refused a permission, who the
// service connected as and where that user's permissions come from.
func (a NATSAuth) refused(service string, err error) error {
	if !errors.Is(err, bus.ErrPermissionDenied) {
		return err
	}
	who := "without a NATS user"
	switch {
	case a.CredsFile != "":
		who = "with the credentials file " + a.CredsFile
	case a.user(service) != "":
		who = fmt.Sprintf("as the NATS user %q", a.user(service))
	}
	return fmt.Errorf("%w (connected %s: the server's authorization, generated as catalog/nats-auth.conf by `eventgen auth`, does not allow it)", err, who)
}
