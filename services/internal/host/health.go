package host

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/giia/events/services/internal/web"
)

// readyTimeout bounds a readiness check: the database's ping and the
// server's answers about the durables.
const readyTimeout = 2 * time.Second

// routes serves the probes beside the service's API: GET /livez (the
// process serves HTTP), GET /readyz (it can do its work; /healthz is the
// same), outside the API's identity check; everything else is the API's.
func (s *Service) routes(api http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /livez", func(w http.ResponseWriter, _ *http.Request) {
		web.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /healthz", s.readyz)
	mux.Handle("GET /metrics", s.met.handler)
	mux.Handle("/", api)
	return mux
}

// readyz answers 200 when every check passes, else 503; the body names
// each check and, for a failed one, why.
func (s *Service) readyz(w http.ResponseWriter, r *http.Request) {
	checks, err := s.ready(r.Context())
	status, code := "ok", http.StatusOK
	if err != nil {
		status, code = "unavailable", http.StatusServiceUnavailable
	}
	web.WriteJSON(w, code, map[string]any{"status": status, "checks": checks})
}

// ready runs the readiness checks: the database answers, the outbox's
// relay runs, the NATS connection is up, and the durable consumers exist
// and are consumed; each that asks a server has readyTimeout of its own.
// It returns each check's outcome ("ok" or why not) and an error joining
// the failures.
func (s *Service) ready(ctx context.Context) (map[string]string, error) {
	checks := map[string]string{}
	var errs []error
	check := func(name string, err error) {
		if err != nil {
			checks[name] = err.Error()
			errs = append(errs, err)
			return
		}
		checks[name] = "ok"
	}
	timed := func(f func(context.Context) error) error {
		ctx, cancel := context.WithTimeout(ctx, readyTimeout)
		defer cancel()
		return f(ctx)
	}
	check("database", timed(s.st.DB().PingContext))
	if s.out.Running() {
		check("outbox_relay", nil)
	} else {
		check("outbox_relay", errors.New("the relay does not run"))
	}
	if nc := s.conn.NATS(); nc.IsConnected() {
		check("nats", nil)
		check("consumer", timed(s.sub.Ready))
	} else {
		check("nats", errors.New("not connected: "+nc.Status().String()))
		check("consumer", errors.New("not asked: NATS is not connected"))
	}
	return checks, errors.Join(errs...)
}
