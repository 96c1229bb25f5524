package host

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/trace"

	"github.com/giia/events/sdk/bus"
)

// LogSettings say how a service logs.
type LogSettings struct {
	Format string // "text" (default) or "json"
	Level  string // "debug", "info" (default), "warn" or "error"
}

// Logger returns a logger writing to w as s says. A record logged with
// the context of an event's handler (InfoContext(ctx, ...)) carries the
// event's id, subject and correlation id, and the trace id when the
// context holds a span (see EventAttrs).
func (s LogSettings) Logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if s.Level != "" {
		if err := level.UnmarshalText([]byte(s.Level)); err != nil {
			return nil, fmt.Errorf("log level %q: want debug, info, warn or error", s.Level)
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch strings.ToLower(s.Format) {
	case "", "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("log format %q: want text or json", s.Format)
	}
	return slog.New(EventAttrs(h)), nil
}

// EventAttrs wraps h so that each record logged with a handler's context
// gets the attributes event_id, subject and correlation_id of the event
// being handled (bus.MetadataFrom), and trace_id of the context's span.
func EventAttrs(h slog.Handler) slog.Handler { return eventAttrs{h} }

type eventAttrs struct{ slog.Handler }

func (h eventAttrs) Handle(ctx context.Context, r slog.Record) error {
	if md, ok := bus.MetadataFrom(ctx); ok {
		r.AddAttrs(slog.String("event_id", md.ID.String()), slog.String("subject", md.Subject), slog.String("correlation_id", md.CorrelationID))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h eventAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	return eventAttrs{h.Handler.WithAttrs(attrs)}
}

func (h eventAttrs) WithGroup(name string) slog.Handler { return eventAttrs{h.Handler.WithGroup(name)} }
