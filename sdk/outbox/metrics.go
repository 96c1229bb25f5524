package outbox

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// The outbox's and the inbox's metrics go through the MeterProvider of
// WithMeterProvider (an inbox's also through that of the outbox it
// notifies), else the global one, as the bus's do. The outbox's gauges
// are read from the database only when a reader collects them; the
// inbox's counter checks Enabled first: without a provider they cost
// nothing.

// InstrumentationName is the name of the package's meter.
const InstrumentationName = "github.com/giia/events/sdk/outbox"

// Metric names and attributes.
const (
	MetricOutboxPending   = "giia.outbox.pending"    // gauge: rows not yet published
	MetricOutboxOldestAge = "giia.outbox.oldest_age" // gauge, seconds: age of the oldest of them
	MetricInboxDuplicates = "giia.inbox.duplicates"  // counter: events skipped, already processed
	AttrService           = "giia.service"           // the outbox's publishing service
	AttrTable             = "giia.outbox.table"      // the outbox's table
	attrConsumer          = "messaging.consumer.group.name"
)

// WithMeterProvider records the outbox's metrics through mp instead of
// the global MeterProvider (and those of an inbox notifying the outbox).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) error {
		if mp == nil {
			return fmt.Errorf("%w: nil meter provider", ErrInvalidOption)
		}
		o.meterProvider = mp
		return nil
	}
}

// WithInboxMeterProvider records the inbox's metrics through mp instead
// of the global MeterProvider or that of the outbox of WithNotify.
func WithInboxMeterProvider(mp metric.MeterProvider) InboxOption {
	return func(in *Inbox) error {
		if mp == nil {
			return fmt.Errorf("%w: nil meter provider", ErrInvalidOption)
		}
		in.meterProvider = mp
		return nil
	}
}

// providerOr is mp, or the global MeterProvider when mp is nil.
func providerOr(mp metric.MeterProvider) metric.MeterProvider {
	if mp == nil {
		return otel.GetMeterProvider()
	}
	return mp
}

// observeBacklog registers the outbox's gauges with its provider for the
// outbox's life: each collection counts the pending rows and reads the
// oldest one's time. A query that fails (a closed database) reports
// nothing that time: metrics never stop the outbox.
func (o *Outbox) observeBacklog() {
	m := providerOr(o.opts.meterProvider).Meter(InstrumentationName)
	pending, err1 := m.Int64ObservableGauge(MetricOutboxPending,
		metric.WithDescription("Outbox rows committed and not yet published."), metric.WithUnit("{row}"))
	oldest, err2 := m.Float64ObservableGauge(MetricOutboxOldestAge,
		metric.WithDescription("Age of the oldest outbox row not yet published, 0 when none."), metric.WithUnit("s"))
	if err1 != nil || err2 != nil {
		return
	}
	set := metric.WithAttributeSet(attribute.NewSet(
		attribute.String(AttrService, o.pub.Service()),
		attribute.String(AttrTable, o.opts.table),
	))
	q := `SELECT COUNT(*), MIN(created_at) FROM ` + o.opts.table + ` WHERE sent_at IS NULL`
	_, _ = m.RegisterCallback(func(ctx context.Context, obs metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		var n int64
		var first sql.NullInt64 // unix milliseconds
		if err := o.db.QueryRowContext(ctx, q).Scan(&n, &first); err != nil {
			return nil
		}
		age := 0.0
		if first.Valid {
			age = max(0, time.Since(time.UnixMilli(first.Int64)).Seconds())
		}
		obs.ObserveInt64(pending, n, set)
		obs.ObserveFloat64(oldest, age, set)
		return nil
	}, pending, oldest)
}

// inboxMetrics is the inbox's counter.
type inboxMetrics struct {
	duplicates metric.Int64Counter
}

// newInboxMetrics makes the inbox's counter from mp (nil: the global
// provider). An instrument that cannot be made is a no-op.
func newInboxMetrics(mp metric.MeterProvider) inboxMetrics {
	m := providerOr(mp).Meter(InstrumentationName)
	dup, err := m.Int64Counter(MetricInboxDuplicates,
		metric.WithDescription("Events the inbox skipped because the consumer had processed them already."), metric.WithUnit("{event}"))
	if err != nil {
		return inboxMetrics{}
	}
	return inboxMetrics{duplicates: dup}
}

// duplicate counts an event consumer had processed already.
func (in *Inbox) duplicate(ctx context.Context, consumer string) {
	c := in.metrics.duplicates
	if c == nil || !c.Enabled(ctx) {
		return
	}
	c.Add(ctx, 1, metric.WithAttributes(attribute.String(attrConsumer, consumer)))
}
