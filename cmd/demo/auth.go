package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"golang.org/x/crypto/bcrypt"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/spec"
	execapp "github.com/giia/events/services/execution/app"
)

// authConf is the generated authorization the demo's --auth runs under,
// found from the working directory up.
const authConf = "catalog/nats-auth.conf"

// users is the demo's least privilege: a password file per user of the
// generated authorization (spec.AdminUser and every catalog service), the
// server holding only their bcrypt hashes.
type users struct {
	dir   string            // the password files' folder
	files map[string]string // user: password file
}

// passwordFile returns the file holding user's password.
func (u *users) passwordFile(user string) string { return u.files[user] }

// password returns user's password, read from its file ("" if it cannot
// be read, which the server then refuses).
func (u *users) password(user string) string {
	raw, err := os.ReadFile(u.passwordFile(user))
	if err != nil {
		return ""
	}
	return strings.TrimRight(string(raw), "\r\n")
}

// serviceAuth is how the service connects: as its own user.
func (u *users) serviceAuth(service string) execapp.NATSAuth {
	if u == nil {
		return execapp.NATSAuth{}
	}
	return execapp.NATSAuth{PasswordFile: u.passwordFile(service)}
}

// connect connects as user, with the user's own inbox prefix (the
// admin's is the default one), or without authentication when u is nil.
func (u *users) connect(url, user, name string) (*bus.Conn, error) {
	opts := []bus.ConnectOption{bus.WithName(name)}
	if u != nil {
		opts = append(opts, bus.WithUserInfo(user, u.password(user)))
		if user != spec.AdminUser {
			opts = append(opts, bus.WithInboxPrefix(spec.InboxPrefix(user)))
		}
	}
	return bus.Connect(url, opts...)
}

// startAuthNATS starts the embedded server under the generated
// authorization: a random password per user, written to a file of its
// own in dir/secrets (mode 0600), and its bcrypt hash in the variable the
// authorization reads (ADMIN_PASSWORD, EXECUTION_PASSWORD, ...), set only
// while the server reads its configuration.
func startAuthNATS(dir string) (*server.Server, *users, error) {
	conf, err := findUp(authConf)
	if err != nil {
		return nil, nil, err
	}
	u := &users{dir: filepath.Join(dir, "secrets"), files: map[string]string{}}
	if err := os.MkdirAll(u.dir, 0o700); err != nil {
		return nil, nil, err
	}
	names := []string{spec.AdminUser}
	for _, s := range events.Catalog.Services {
		names = append(names, s.Name)
	}
	var vars []string
	defer func() {
		for _, v := range vars {
			os.Unsetenv(v)
		}
	}()
	for _, name := range names {
		password, err := randomPassword()
		if err != nil {
			return nil, nil, err
		}
		file := filepath.Join(u.dir, name+".password")
		if err := os.WriteFile(file, []byte(password+"\n"), 0o600); err != nil {
			return nil, nil, err
		}
		u.files[name] = file
		hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			return nil, nil, err
		}
		v := strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_PASSWORD"
		vars = append(vars, v)
		if err := os.Setenv(v, `"`+string(hash)+`"`); err != nil {
			return nil, nil, err
		}
	}
	// The server's configuration: the generated authorization, included.
	auth, err := os.ReadFile(conf)
	if err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "nats-auth.conf"), auth, 0o600); err != nil {
		return nil, nil, err
	}
	main := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(main, []byte("include \"nats-auth.conf\"\n"), 0o600); err != nil {
		return nil, nil, err
	}
	opts, err := server.ProcessConfigFile(main)
	if err != nil {
		return nil, nil, fmt.Errorf("nats server configuration: %w", err)
	}
	opts.ServerName, opts.Host, opts.Port = "giia-demo", "127.0.0.1", server.RANDOM_PORT
	opts.JetStream, opts.StoreDir = true, filepath.Join(dir, "nats")
	opts.NoLog, opts.NoSigs = true, true
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, nil, fmt.Errorf("nats server: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		return nil, nil, errors.New("nats server: not ready after 10s")
	}
	return srv, u, nil
}

// randomPassword returns 24 random bytes in base64url: 192 bits.
func randomPassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// findUp returns path under the working directory or the nearest of its
// parents that has it.
func findUp(path string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, path)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s not found in the working directory or above it: run the demo from the repository", path)
		}
		dir = parent
	}
}

// leastPrivilege shows the server enforcing the authorization: connected
// as execution's user, a publisher that claims to be ddmrp republishes the
// last ddmrp.buffer.status_changed, and the server refuses it. It is an
// error when the server accepts it.
func (d *demo) leastPrivilege(ctx context.Context, res *result) error {
	subject := events.SubjectDDMRPBufferStatusChanged
	if err := d.step(ctx, "6. Least privilege: execution's NATS user publishes %s", subject); err != nil {
		return err
	}
	stream, err := d.js.Stream(ctx, events.Catalog.Stream.Name)
	if err != nil {
		return err
	}
	last, err := stream.GetLastMsgForSubject(ctx, subject)
	if err != nil {
		return fmt.Errorf("the last %s: %w", subject, err)
	}
	var env struct {
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(last.Data, &env); err != nil {
		return fmt.Errorf("the last %s: %w", subject, err)
	}
	conn, err := d.users.connect(d.natsURL, events.ServiceExecution, "giia-demo-forger")
	if err != nil {
		return err
	}
	defer conn.Close()
	forger, err := bus.NewPublisher(conn, events.Catalog, events.ServiceDDMRP)
	if err != nil {
		return err
	}
	_, err = forger.Publish(bus.WithCorrelation(ctx, d.org, "demo-forgery"), subject, env.Payload)
	if !errors.Is(err, bus.ErrPermissionDenied) {
		return fmt.Errorf("execution's user published %s: want a permission refusal, got %v", subject, err)
	}
	res.refused = true
	d.printf("   refused: %v\n", err)
	return nil
}
