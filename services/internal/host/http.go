package host

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/giia/events/services/internal/web"
)

// HTTPLimits bound what one client can hold of a service's HTTP server:
// time to send a request, to be answered, to stay idle, header size, one
// request's work, and requests at once. A zero field takes its default.
type HTTPLimits struct {
	// ReadTimeout bounds reading a request, body included: a body sent a
	// byte at a time is cut when it runs out (default 10 s).
	ReadTimeout time.Duration
	// WriteTimeout bounds a request from the end of its headers to the
	// end of its response (default 15 s).
	WriteTimeout time.Duration
	// IdleTimeout bounds a kept-alive connection between requests
	// (default 60 s).
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's headers (default 16 KiB).
	MaxHeaderBytes int
	// RequestTimeout is the deadline of a request's context, which its
	// database work honours (default 10 s).
	RequestTimeout time.Duration
	// MaxConcurrent bounds the API requests served at once; one more is
	// answered 503 with Retry-After at once (default 256). The probes are
	// not counted.
	MaxConcurrent int
}

// Defaults of HTTPLimits.
const (
	DefaultReadTimeout    = 10 * time.Second
	DefaultWriteTimeout   = 15 * time.Second
	DefaultIdleTimeout    = 60 * time.Second
	DefaultMaxHeaderBytes = 16 << 10
	DefaultRequestTimeout = 10 * time.Second
	DefaultMaxConcurrent  = 256
)

// withDefaults returns l with every zero field at its default.
func (l HTTPLimits) withDefaults() HTTPLimits {
	set := func(d *time.Duration, def time.Duration) {
		if *d == 0 {
			*d = def
		}
	}
	set(&l.ReadTimeout, DefaultReadTimeout)
	set(&l.WriteTimeout, DefaultWriteTimeout)
	set(&l.IdleTimeout, DefaultIdleTimeout)
	set(&l.RequestTimeout, DefaultRequestTimeout)
	if l.MaxHeaderBytes == 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxConcurrent == 0 {
		l.MaxConcurrent = DefaultMaxConcurrent
	}
	return l
}

// validate refuses negative limits.
func (l HTTPLimits) validate(service string) error {
	for name, d := range map[string]time.Duration{"read timeout (--http-read-timeout)": l.ReadTimeout, "write timeout (--http-write-timeout)": l.WriteTimeout,
		"idle timeout (--http-idle-timeout)": l.IdleTimeout, "request timeout (--http-request-timeout)": l.RequestTimeout} {
		if d < 0 {
			return fmt.Errorf("%s: HTTP %s %v: want > 0, or 0 for the default", service, name, d)
		}
	}
	if l.MaxHeaderBytes < 0 || l.MaxConcurrent < 0 {
		return fmt.Errorf("%s: HTTP header size %d, concurrent requests %d (--http-max-concurrent): want > 0, or 0 for the default", service, l.MaxHeaderBytes, l.MaxConcurrent)
	}
	return nil
}

// server is the HTTP server of h under l.
func (l HTTPLimits) server(h http.Handler) *http.Server {
	l = l.withDefaults()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: min(5*time.Second, l.ReadTimeout),
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
	}
}

// bound serves h with a deadline per request and at most MaxConcurrent
// requests at once.
func (l HTTPLimits) bound(h http.Handler) http.Handler {
	l = l.withDefaults()
	slots := make(chan struct{}, l.MaxConcurrent)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		default:
			w.Header().Set("Retry-After", "1")
			web.WriteJSON(w, http.StatusServiceUnavailable, web.ErrorBody{Error: web.ErrorDetail{
				Message: fmt.Sprintf("too many requests at once (%d): retry shortly", l.MaxConcurrent)}})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), l.RequestTimeout)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}
