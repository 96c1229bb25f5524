// Package core holds the DDMRP service's use cases: setting a buffer's
// profile, reading buffers, and following the execution service's events
// to keep each buffer's net flow position, publishing its zone changes and
// replenishment alerts.
//
// Every change follows one path: a transaction, the change, the events it
// causes collected in a batch, and Commit, the one place where the change
// becomes durable (services/internal/usecase, shared by every service):
// the events go into the transactional outbox in the same transaction,
// and are published once committed, in commit order. A reaction to a
// consumed event runs in the inbox's transaction, which also records the
// event's id.
package core

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"time"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/outbox"
	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/services/ddmrp/internal/buffer"
	"github.com/giia/events/services/ddmrp/internal/store"
	"github.com/giia/events/services/internal/problem"
	"github.com/giia/events/services/internal/usecase"
)

// Service runs the use cases.
type Service struct {
	st  *store.Store
	uc  *usecase.Core[*events.DDMRPOutbox] // commit, publish, the inbox
	now func() time.Time
	log *slog.Logger
}

// batch collects the events of one change, in publishing order.
type batch = usecase.Batch[*events.DDMRPOutbox]

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now; "today", for qualified demand, is the
// clock's date in UTC.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger replaces slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// New returns the use cases over st, publishing through out (an outbox on
// st's database, for the DDMRP service, used only through its typed
// facade events.DDMRPOutbox) and recording the events they consume in in (an
// inbox on st's database). An outbox of another service is an error
// wrapping bus.ErrNotPublisher.
func New(st *store.Store, out *outbox.Outbox, in *outbox.Inbox, opts ...Option) (*Service, error) {
	s := &Service{st: st, now: time.Now, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	uc, err := usecase.New(usecase.Config[*events.DDMRPOutbox]{
		Name: events.ServiceDDMRP, Outbox: out, Typed: events.NewDDMRPOutbox, Inbox: in, Log: s.log,
	})
	if err != nil {
		return nil, err
	}
	s.uc = uc
	return s, nil
}

// View is a buffer as the API shows it: profile, zones and its position
// now.
type View struct {
	BufferID     uuid.UUID
	Product      store.Product
	LocationID   uuid.UUID
	Profile      buffer.Profile
	Zones        buffer.Zones
	Status       buffer.Status
	DraftSupply  float64 // what draft replenishment orders would add; not on order yet
	AlertArmed   bool
	UpdatedAt    time.Time
	Discontinued bool
}

// wholeUnits are counted, not measured: quantities round up to whole ones.
var wholeUnits = map[string]bool{"EA": true, "BOX": true, "PALLET": true}

// evaluate computes the position of buffer b now.
func (s *Service) evaluate(ctx context.Context, tx *store.Tx, b store.Buffer, today payload.Date) (buffer.Zones, buffer.Status, error) {
	z := buffer.Compute(b.Profile)
	onHand, err := tx.OnHand(ctx, b.Org, b.Position)
	if err != nil {
		return z, buffer.Status{}, err
	}
	onOrder, err := tx.OnOrder(ctx, b.Org, b.Position)
	if err != nil {
		return z, buffer.Status{}, err
	}
	demand, err := tx.OpenDemand(ctx, b.Org, b.Position, today)
	if err != nil {
		return z, buffer.Status{}, err
	}
	st := buffer.Evaluate(z, onHand, onOrder, demand)
	return z, st, st.Check()
}

// reevaluate brings the buffer at p, if there is one, up to date and adds
// the events its change causes: buffer.status_changed when the position
// moved into another zone, buffer.alert_triggered when it fell to or below
// top of yellow (once per crossing, never for a discontinued product).
func (s *Service) reevaluate(ctx context.Context, tx *store.Tx, org uuid.UUID, p store.Position, b *batch) error {
	now := s.now().UTC()
	at, err := tx.Position(ctx, org, p, payload.DateOf(now))
	if errors.Is(err, store.ErrNotFound) && at.Buffer.ID == uuid.Nil {
		return nil // no buffer at p
	}
	if err != nil {
		return err
	}
	buf, prod := at.Buffer, at.Product
	z := buffer.Compute(buf.Profile)
	st := buffer.Evaluate(z, at.OnHand, at.OnOrder, at.Demand)
	if err := st.Check(); err != nil {
		// The event that made the sum overflow is refused, not applied:
		// retrying cannot make it fit.
		return bus.Permanent(err)
	}
	s.changed(buf, prod, z, st, now, b)
	armed := s.alarm(buf, prod, z, st, now, b)
	buf.Zone, buf.NFP, buf.Armed, buf.UpdatedAt = st.Zone, st.NetFlowPosition, armed, now
	return tx.SaveEvaluation(ctx, buf)
}

// changed adds buffer.status_changed when st is in another zone than the
// buffer's last evaluation.
func (s *Service) changed(buf store.Buffer, prod store.Product, z buffer.Zones, st buffer.Status, now time.Time, b *batch) {
	if st.Zone == buf.Zone {
		return
	}
	usecase.Add(b, (*events.DDMRPOutbox).BufferStatusChanged, events.BufferStatusChanged{
		BufferID:            buf.ID,
		Product:             events.ProductRef{ProductID: prod.ID, SKU: prod.SKU},
		LocationID:          buf.Position.LocationID,
		FromZone:            events.Zone(buf.Zone),
		ToZone:              events.Zone(st.Zone),
		Unit:                events.Unit(prod.Unit),
		NetFlowPosition:     st.NetFlowPosition,
		OnHand:              st.OnHand,
		OnOrder:             st.OnOrder,
		QualifiedDemand:     st.QualifiedDemand,
		PercentOfTopOfGreen: z.PercentOfTopOfGreen(st.NetFlowPosition),
		ChangedAt:           now,
	})
}

// alarm applies the once-per-crossing rule, adds buffer.alert_triggered
// when it fires, and returns whether the alarm is armed afterwards.
func (s *Service) alarm(buf store.Buffer, prod store.Product, z buffer.Zones, st buffer.Status, now time.Time, b *batch) bool {
	next, fire := buffer.Alarm{Armed: buf.Armed}.Next(z, st.NetFlowPosition)
	if !fire || prod.Discontinued {
		return next.Armed
	}
	q := buffer.RecommendedQuantity(z, st.NetFlowPosition, buf.Profile.MOQ, wholeUnits[prod.Unit])
	if q <= 0 {
		return next.Armed
	}
	severity := events.BufferAlertTriggeredSeverityWarning
	if st.Zone == buffer.Red {
		severity = events.BufferAlertTriggeredSeverityCritical
	}
	usecase.Add(b, (*events.DDMRPOutbox).BufferAlertTriggered, events.BufferAlertTriggered{
		AlertID:                  uuid.New(),
		BufferID:                 buf.ID,
		Product:                  events.ProductRef{ProductID: prod.ID, SKU: prod.SKU},
		LocationID:               buf.Position.LocationID,
		Zone:                     events.Zone(st.Zone),
		Severity:                 severity,
		Unit:                     events.Unit(prod.Unit),
		NetFlowPosition:          st.NetFlowPosition,
		TopOfRed:                 z.TopOfRed,
		TopOfYellow:              z.TopOfYellow,
		TopOfGreen:               z.TopOfGreen,
		RecommendedOrderQuantity: events.Quantity{Value: q, Unit: events.Unit(prod.Unit)},
		RequestedDeliveryDate:    payload.DateOf(now).AddDays(buf.Profile.DLTDays),
		TriggeredAt:              now,
	})
	return next.Armed
}

// ProfileInput is a buffer profile as set through the API. SKU and Unit
// are needed only for a product the service has not seen in any event.
type ProfileInput struct {
	SKU     *string
	Unit    *string
	Profile buffer.Profile
}

// units and skuPattern are the schema's (schemas/common/unit.json,
// product.json#/$defs/sku), checked here to name the request's field.
var (
	units      = []string{"EA", "KG", "L", "M", "BOX", "PALLET"}
	skuPattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{2,39}$`)
)

// SetProfile creates or changes the buffer of a product at a location,
// computes its zones and publishes ddmrp.buffer.calculated, followed by
// buffer.status_changed and buffer.alert_triggered when the new zones put
// the position in another zone or across top of yellow. created is true
// for a new buffer.
func (s *Service) SetProfile(ctx context.Context, p store.Position, in ProfileInput) (_ View, created bool, _ error) {
	org, err := s.uc.Organization(ctx)
	if err != nil {
		return View{}, false, err
	}
	if err := profileProblem(in.Profile.Validate()); err != nil {
		return View{}, false, err
	}
	if in.SKU != nil && !skuPattern.MatchString(*in.SKU) {
		return View{}, false, problem.Invalidf("sku", "must be 3 to 40 capitals, digits and hyphens such as BRG-6204-2RS, got %q", *in.SKU)
	}
	if in.Unit != nil && !contains(units, *in.Unit) {
		return View{}, false, problem.Invalidf("unit", "must be one of EA, KG, L, M, BOX, PALLET, got %q", *in.Unit)
	}
	tx, err := s.st.Begin(ctx)
	if err != nil {
		return View{}, false, err
	}
	defer tx.Rollback()
	prod, err := tx.Product(ctx, org, p.ProductID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if in.SKU == nil {
			return View{}, false, problem.Invalidf("sku", "is required: no event has named product %s yet", p.ProductID)
		}
		prod = store.Product{ID: p.ProductID, SKU: *in.SKU}
	case err != nil:
		return View{}, false, err
	case prod.Discontinued:
		return View{}, false, problem.Conflictf("product_id", "product %s (%s) is discontinued: no buffer", prod.ID, prod.SKU)
	}
	if in.SKU != nil {
		prod.SKU = *in.SKU
	}
	if in.Unit != nil {
		prod.Unit = *in.Unit
	}
	if prod.Unit == "" {
		return View{}, false, problem.Invalidf("unit", "is required: no event has given the unit of product %s yet", prod.SKU)
	}
	if err := tx.LearnProduct(ctx, org, prod.ID, prod.SKU, prod.Unit); err != nil {
		return View{}, false, err
	}
	buf, err := tx.Buffer(ctx, org, p)
	switch {
	case errors.Is(err, store.ErrNotFound):
		created = true
		buf = store.Buffer{ID: uuid.New(), Org: org, Position: p}
	case err != nil:
		return View{}, false, err
	}
	buf.Profile = in.Profile
	now := s.now().UTC()
	z, st, err := s.evaluate(ctx, tx, buf, payload.DateOf(now))
	if err != nil {
		return View{}, false, err
	}
	var b batch
	usecase.Add(&b, (*events.DDMRPOutbox).BufferCalculated, events.BufferCalculated{
		BufferID:   buf.ID,
		Product:    events.ProductRef{ProductID: prod.ID, SKU: prod.SKU},
		LocationID: p.LocationID,
		Unit:       events.Unit(prod.Unit),
		Profile: events.BufferCalculatedProfile{
			ADU:               in.Profile.ADU,
			DLTDays:           int64(in.Profile.DLTDays),
			LeadTimeFactor:    in.Profile.LeadTimeFactor,
			VariabilityFactor: in.Profile.VariabilityFactor,
			MOQ:               in.Profile.MOQ,
			OrderCycleDays:    int64(in.Profile.OrderCycleDays),
		},
		Zones: events.BufferCalculatedZones{
			RedBase: z.RedBase, RedSafety: z.RedSafety, Red: z.Red, Yellow: z.Yellow, Green: z.Green,
			TopOfRed: z.TopOfRed, TopOfYellow: z.TopOfYellow, TopOfGreen: z.TopOfGreen,
		},
		NetFlowPosition: st.NetFlowPosition,
		Zone:            events.Zone(st.Zone),
		CalculatedAt:    now,
	})
	if !created {
		s.changed(buf, prod, z, st, now, &b)
	}
	armed := s.alarm(buf, prod, z, st, now, &b)
	buf.Zone, buf.NFP, buf.Armed, buf.UpdatedAt = st.Zone, st.NetFlowPosition, armed, now
	if err := tx.SaveBuffer(ctx, buf); err != nil {
		return View{}, false, err
	}
	draft, err := tx.DraftSupply(ctx, org, p)
	if err != nil {
		return View{}, false, err
	}
	v := View{BufferID: buf.ID, Product: prod, LocationID: p.LocationID, Profile: buf.Profile, Zones: z, Status: st, DraftSupply: draft, AlertArmed: buf.Armed, UpdatedAt: now}
	return v, created, s.uc.Commit(ctx, tx, &b)
}

func profileProblem(err error) error {
	if err == nil {
		return nil
	}
	var fe *buffer.FieldError
	if errors.As(err, &fe) {
		return problem.Invalidf(fe.Field, "%s", fe.Message)
	}
	return problem.Invalidf("", "%v", err)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Buffer returns the buffer of a product at a location, evaluated now.
func (s *Service) Buffer(ctx context.Context, p store.Position) (View, error) {
	org, err := s.uc.Organization(ctx)
	if err != nil {
		return View{}, err
	}
	var v View
	err = s.st.Read(ctx, func(tx *store.Tx) error {
		buf, err := tx.Buffer(ctx, org, p)
		if errors.Is(err, store.ErrNotFound) {
			return problem.NotFoundf("", "no buffer for product %s at location %s", p.ProductID, p.LocationID)
		}
		if err != nil {
			return err
		}
		v, err = s.view(ctx, tx, buf)
		return err
	})
	return v, err
}

// Buffers returns every buffer of the organization, evaluated now.
func (s *Service) Buffers(ctx context.Context, page store.Page) ([]View, error) {
	org, err := s.uc.Organization(ctx)
	if err != nil {
		return nil, err
	}
	var out []View
	err = s.st.Read(ctx, func(tx *store.Tx) error {
		bufs, err := tx.Buffers(ctx, org, page)
		if err != nil {
			return err
		}
		for _, b := range bufs {
			v, err := s.view(ctx, tx, b)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

func (s *Service) view(ctx context.Context, tx *store.Tx, buf store.Buffer) (View, error) {
	prod, err := tx.Product(ctx, buf.Org, buf.Position.ProductID)
	if err != nil {
		return View{}, err
	}
	z, st, err := s.evaluate(ctx, tx, buf, payload.DateOf(s.now().UTC()))
	if err != nil {
		return View{}, err
	}
	draft, err := tx.DraftSupply(ctx, buf.Org, buf.Position)
	if err != nil {
		return View{}, err
	}
	return View{
		BufferID: buf.ID, Product: prod, LocationID: buf.Position.LocationID, Profile: buf.Profile, Zones: z, Status: st,
		DraftSupply: draft, AlertArmed: buf.Armed, UpdatedAt: buf.UpdatedAt, Discontinued: prod.Discontinued,
	}, nil
}
