// Package buffer is the DDMRP arithmetic of one buffer: zones from a
// profile, net flow position, qualified demand, the zone of a position and
// the recommended replenishment. It is pure: no clock, no storage, no I/O.
package buffer

import (
	"errors"
	"fmt"
	"math"

	"github.com/giia/events/services/internal/limits"
)

// Zone is a DDMRP buffer zone.
type Zone string

// The three zones, from the most urgent.
const (
	Red    Zone = "red"
	Yellow Zone = "yellow"
	Green  Zone = "green"
)

// Rank orders zones by urgency: red 0, yellow 1, green 2.
func (z Zone) Rank() int {
	switch z {
	case Red:
		return 0
	case Yellow:
		return 1
	default:
		return 2
	}
}

// Profile is what a planner sets for a buffer.
type Profile struct {
	ADU               float64 // average daily usage, units per day
	DLTDays           int     // decoupled lead time, days
	LeadTimeFactor    float64 // LTF, in (0, 1]
	VariabilityFactor float64 // VF, in [0, 1]
	MOQ               float64 // minimum order quantity; 0 when none
	OrderCycleDays    int     // imposed or desired order cycle; 0 when none
}

// FieldError names the profile field a problem is about, by its JSON name.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Validate reports every problem of the profile at once, each a
// *FieldError joined with errors.Join.
func (p Profile) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if !(p.ADU > 0 && p.ADU <= limits.MaxQuantity) {
		bad("adu", "must be a number above 0 and at most %g, got %v", float64(limits.MaxQuantity), p.ADU)
	}
	if p.DLTDays < 1 || p.DLTDays > limits.MaxDays {
		bad("dlt_days", "must be from 1 to %d, got %d", limits.MaxDays, p.DLTDays)
	}
	if !(p.LeadTimeFactor > 0 && p.LeadTimeFactor <= 1) {
		bad("lead_time_factor", "must be above 0 and at most 1, got %v", p.LeadTimeFactor)
	}
	if !(p.VariabilityFactor >= 0 && p.VariabilityFactor <= 1) {
		bad("variability_factor", "must be from 0 to 1, got %v", p.VariabilityFactor)
	}
	if !(p.MOQ >= 0 && p.MOQ <= limits.MaxQuantity) {
		bad("moq", "must be a number from 0 to %g, got %v", float64(limits.MaxQuantity), p.MOQ)
	}
	if p.OrderCycleDays < 0 || p.OrderCycleDays > limits.MaxDays {
		bad("order_cycle_days", "must be from 0 to %d, got %d", limits.MaxDays, p.OrderCycleDays)
	}
	return errors.Join(errs...)
}

// Zones are a buffer's zones and their tops, in the buffer's unit.
type Zones struct {
	RedBase     float64 // ADU x DLT x LTF
	RedSafety   float64 // red base x VF
	Red         float64 // red base + red safety
	Yellow      float64 // ADU x DLT
	Green       float64 // max(ADU x DLT x LTF, MOQ, ADU x order cycle)
	TopOfRed    float64 // red
	TopOfYellow float64 // top of red + yellow
	TopOfGreen  float64 // top of yellow + green
}

// Compute returns the zones of profile p. Every figure is rounded to
// Precision decimals, so that 0.1-style fractions do not leak binary noise
// into events.
func Compute(p Profile) Zones {
	dlt := float64(p.DLTDays)
	redBase := p.ADU * dlt * p.LeadTimeFactor
	redSafety := redBase * p.VariabilityFactor
	yellow := p.ADU * dlt
	green := max(redBase, p.MOQ, p.ADU*float64(p.OrderCycleDays))
	z := Zones{
		RedBase:   Round(redBase),
		RedSafety: Round(redSafety),
		Red:       Round(redBase + redSafety),
		Yellow:    Round(yellow),
		Green:     Round(green),
	}
	z.TopOfRed = z.Red
	z.TopOfYellow = Round(z.Red + z.Yellow)
	z.TopOfGreen = Round(z.TopOfYellow + z.Green)
	return z
}

// ZoneOf returns the zone a net flow position falls in: red at or below top
// of red, yellow at or below top of yellow, green above it.
func (z Zones) ZoneOf(nfp float64) Zone {
	switch {
	case nfp <= z.TopOfRed:
		return Red
	case nfp <= z.TopOfYellow:
		return Yellow
	default:
		return Green
	}
}

// SpikeThreshold is the order quantity above which a single order line is
// qualified demand whatever its due date: half the red zone.
func (z Zones) SpikeThreshold() float64 { return z.Red / 2 }

// PercentOfTopOfGreen returns nfp as a percentage of top of green, rounded
// to two decimals; 0 when top of green is 0.
func (z Zones) PercentOfTopOfGreen(nfp float64) float64 {
	if z.TopOfGreen == 0 {
		return 0
	}
	p := nfp / z.TopOfGreen * 100
	if math.Abs(p) >= 1<<53/100 {
		return p // no hundredths to round (see Round)
	}
	return math.Round(p*100) / 100
}

// Demand is an open sales order line: what is still to ship, and when.
type Demand struct {
	Outstanding float64
	// Due reports whether the line is due today or earlier.
	Due bool
}

// QualifiedDemand sums the open demand due today or earlier, plus every
// line above spikeThreshold whatever its due date.
func QualifiedDemand(lines []Demand, spikeThreshold float64) float64 {
	var q float64
	for _, l := range lines {
		if l.Outstanding <= 0 {
			continue
		}
		if l.Due || l.Outstanding > spikeThreshold {
			q += l.Outstanding
		}
	}
	return Round(q)
}

// NetFlowPosition is on-hand + on-order - qualified demand.
func NetFlowPosition(onHand, onOrder, qualifiedDemand float64) float64 {
	return Round(onHand + onOrder - qualifiedDemand)
}

// RecommendedQuantity is what brings nfp back to top of green: top of green
// - nfp, rounded up to a multiple of the MOQ (when there is one), and up to
// a whole number when the unit is counted rather than measured. It is 0
// when nfp is already at or above top of green.
func RecommendedQuantity(z Zones, nfp, moq float64, whole bool) float64 {
	need := Round(z.TopOfGreen - nfp)
	if need <= 0 {
		return 0
	}
	if whole {
		need = math.Ceil(need)
	}
	if moq > 0 {
		need = math.Ceil(Round(need/moq)) * moq
	}
	return Round(need)
}

// Precision is the number of decimals every figure of this package keeps.
const Precision = 6

// Round rounds x to Precision decimals. A number of 2^53/10^6 or more has
// no digit that fine to round (and scaling it could overflow): it is
// returned as it is.
func Round(x float64) float64 {
	const scale = 1e6
	if math.Abs(x) >= (1<<53)/scale {
		return x
	}
	r := math.Round(x*scale) / scale
	if r == 0 {
		return 0 // no negative zero
	}
	return r
}

// Status is where a buffer's net flow position stands.
type Status struct {
	OnHand          float64
	OnOrder         float64
	QualifiedDemand float64
	NetFlowPosition float64
	Zone            Zone
	PercentOfTOG    float64
}

// ErrNotFinite is the error of a position whose sums left float64's
// range: it is never stored, nor published.
var ErrNotFinite = errors.New("buffer: position not finite")

// Check reports a status whose figures are not all finite numbers.
func (st Status) Check() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"on-hand", st.OnHand}, {"on-order", st.OnOrder}, {"qualified demand", st.QualifiedDemand}, {"net flow position", st.NetFlowPosition}, {"percent of top of green", st.PercentOfTOG}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fmt.Errorf("%w: %s is %v (on-hand %v, on-order %v, qualified demand %v)", ErrNotFinite, f.name, f.v, st.OnHand, st.OnOrder, st.QualifiedDemand)
		}
	}
	return nil
}

// Evaluate computes the position and zone of a buffer from its supply and
// its open demand.
func Evaluate(z Zones, onHand, onOrder float64, demand []Demand) Status {
	qd := QualifiedDemand(demand, z.SpikeThreshold())
	nfp := NetFlowPosition(onHand, onOrder, qd)
	return Status{
		OnHand:          Round(onHand),
		OnOrder:         Round(onOrder),
		QualifiedDemand: qd,
		NetFlowPosition: nfp,
		Zone:            z.ZoneOf(nfp),
		PercentOfTOG:    z.PercentOfTopOfGreen(nfp),
	}
}

// Alarm is the once-per-crossing rule of replenishment alerts. An armed
// buffer whose position falls to or below top of yellow raises one alert
// and disarms; it re-arms when the position goes back above top of yellow.
// A new buffer starts disarmed, so a buffer born at or below top of yellow
// raises nothing until it has been above it once.
type Alarm struct{ Armed bool }

// Next returns the alarm after nfp, and whether an alert is due now.
func (a Alarm) Next(z Zones, nfp float64) (Alarm, bool) {
	if nfp > z.TopOfYellow {
		return Alarm{Armed: true}, false
	}
	if a.Armed {
		return Alarm{Armed: false}, true
	}
	return a, false
}
