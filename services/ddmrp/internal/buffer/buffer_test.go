package buffer_test

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/services/ddmrp/internal/buffer"
)

// The worked example of the catalog (catalog/ddmrp.yaml): BRG-6204-2RS at
// the Monterrey DC, ADU 40 EA/day, DLT 10 days, LTF 0.5, VF 0.5, MOQ 200,
// order cycle 7 days.
var bearing = buffer.Profile{ADU: 40, DLTDays: 10, LeadTimeFactor: 0.5, VariabilityFactor: 0.5, MOQ: 200, OrderCycleDays: 7}

func TestCompute(t *testing.T) {
	tests := []struct {
		name    string
		profile buffer.Profile
		want    buffer.Zones
	}{
		{
			// red base 40x10x0.5 = 200, safety 200x0.5 = 100, red 300;
			// yellow 40x10 = 400; green max(200, 200, 40x7 = 280) = 280;
			// tops 300, 700, 980.
			name:    "catalog example, order cycle sets green",
			profile: bearing,
			want:    buffer.Zones{RedBase: 200, RedSafety: 100, Red: 300, Yellow: 400, Green: 280, TopOfRed: 300, TopOfYellow: 700, TopOfGreen: 980},
		},
		{
			// red base 10x5x0.7 = 35, safety 35x0.3 = 10.5, red 45.5;
			// yellow 10x5 = 50; green max(35, 100, 10x3 = 30) = 100;
			// tops 45.5, 95.5, 195.5.
			name:    "MOQ sets green",
			profile: buffer.Profile{ADU: 10, DLTDays: 5, LeadTimeFactor: 0.7, VariabilityFactor: 0.3, MOQ: 100, OrderCycleDays: 3},
			want:    buffer.Zones{RedBase: 35, RedSafety: 10.5, Red: 45.5, Yellow: 50, Green: 100, TopOfRed: 45.5, TopOfYellow: 95.5, TopOfGreen: 195.5},
		},
		{
			// red base 20x4x0.4 = 32, safety 32x0.6 = 19.2, red 51.2;
			// yellow 20x4 = 80; green max(32, 0, 20x10 = 200) = 200;
			// tops 51.2, 131.2, 331.2.
			name:    "long order cycle, no MOQ",
			profile: buffer.Profile{ADU: 20, DLTDays: 4, LeadTimeFactor: 0.4, VariabilityFactor: 0.6, OrderCycleDays: 10},
			want:    buffer.Zones{RedBase: 32, RedSafety: 19.2, Red: 51.2, Yellow: 80, Green: 200, TopOfRed: 51.2, TopOfYellow: 131.2, TopOfGreen: 331.2},
		},
		{
			// red base 25x8x0.5 = 100, safety 0, red 100; yellow 200;
			// green max(100, 50, 25x2 = 50) = 100 (the lead-time term);
			// tops 100, 300, 400.
			name:    "lead-time term sets green, no variability",
			profile: buffer.Profile{ADU: 25, DLTDays: 8, LeadTimeFactor: 0.5, MOQ: 50, OrderCycleDays: 2},
			want:    buffer.Zones{RedBase: 100, RedSafety: 0, Red: 100, Yellow: 200, Green: 100, TopOfRed: 100, TopOfYellow: 300, TopOfGreen: 400},
		},
		{
			// 3.3x3x1 = 9.9 everywhere: binary fractions must not leak
			// (3.3*3 is 9.899999999999999 in float64); tops 9.9, 19.8, 29.7.
			name:    "fractions are rounded",
			profile: buffer.Profile{ADU: 3.3, DLTDays: 3, LeadTimeFactor: 1},
			want:    buffer.Zones{RedBase: 9.9, RedSafety: 0, Red: 9.9, Yellow: 9.9, Green: 9.9, TopOfRed: 9.9, TopOfYellow: 19.8, TopOfGreen: 29.7},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, tt.profile.Validate())
			assert.Equal(t, tt.want, buffer.Compute(tt.profile))
		})
	}
}

func TestZoneOf(t *testing.T) {
	z := buffer.Compute(bearing) // tops 300, 700, 980
	tests := []struct {
		nfp  float64
		want buffer.Zone
	}{
		{-50, buffer.Red},
		{0, buffer.Red},
		{300, buffer.Red}, // at top of red is red
		{300.5, buffer.Yellow},
		{580, buffer.Yellow},
		{700, buffer.Yellow}, // at top of yellow is yellow
		{700.01, buffer.Green},
		{980, buffer.Green},
		{1500, buffer.Green}, // above top of green is still green
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, z.ZoneOf(tt.nfp), "nfp %v", tt.nfp)
	}
	assert.Less(t, buffer.Red.Rank(), buffer.Yellow.Rank())
	assert.Less(t, buffer.Yellow.Rank(), buffer.Green.Rank())
}

func TestNetFlowPositionAndPercent(t *testing.T) {
	z := buffer.Compute(bearing)
	tests := []struct {
		onHand, onOrder, demand float64
		nfp, percent            float64
	}{
		// The catalog's status_changed example: 440 + 200 - 60 = 580,
		// 580 / 980 = 59.18 %.
		{440, 200, 60, 580, 59.18},
		{980, 0, 0, 980, 100},
		{100, 0, 250, -150, -15.31},
		{0, 0, 0, 0, 0},
		{0.1, 0.2, 0, 0.3, 0.03}, // 0.1+0.2 is 0.30000000000000004 in float64
	}
	for _, tt := range tests {
		nfp := buffer.NetFlowPosition(tt.onHand, tt.onOrder, tt.demand)
		assert.Equal(t, tt.nfp, nfp)
		assert.Equal(t, tt.percent, z.PercentOfTopOfGreen(nfp))
	}
	assert.Equal(t, 0.0, buffer.Zones{}.PercentOfTopOfGreen(10), "no top of green")
}

func TestQualifiedDemand(t *testing.T) {
	z := buffer.Compute(bearing)
	require.Equal(t, 150.0, z.SpikeThreshold(), "half of the red zone (300)")
	tests := []struct {
		name  string
		lines []buffer.Demand
		want  float64
	}{
		{"nothing open", nil, 0},
		{"due today counts", []buffer.Demand{{Outstanding: 60, Due: true}}, 60},
		{"future demand does not", []buffer.Demand{{Outstanding: 100}}, 0},
		{"a future spike counts", []buffer.Demand{{Outstanding: 151}}, 151},
		{"at the threshold is no spike", []buffer.Demand{{Outstanding: 150}}, 0},
		{"a due spike counts once", []buffer.Demand{{Outstanding: 400, Due: true}}, 400},
		{"shipped lines do not", []buffer.Demand{{Outstanding: 0, Due: true}}, 0},
		// Each line of an order is due on its own date: two lines of one
		// order, 60 due today and 60 next week, count 60.
		{"an order's lines, only the due one", []buffer.Demand{{Outstanding: 60, Due: true}, {Outstanding: 60}}, 60},
		{
			// 60 due + 40 due + 200 future spike; 120 future is not a spike.
			"mixed",
			[]buffer.Demand{{Outstanding: 60, Due: true}, {Outstanding: 40, Due: true}, {Outstanding: 200}, {Outstanding: 120}},
			300,
		},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, buffer.QualifiedDemand(tt.lines, z.SpikeThreshold()), tt.name)
	}
}

func TestRecommendedQuantity(t *testing.T) {
	z := buffer.Compute(bearing) // top of green 980
	tests := []struct {
		name  string
		nfp   float64
		moq   float64
		whole bool
		want  float64
	}{
		{"catalog example: 980 - 580 = 400, a multiple of 200", 580, 200, true, 400},
		{"980 - 650 = 330, up to 400", 650, 200, true, 400},
		{"980 - 960 = 20, up to one MOQ", 960, 200, true, 200},
		{"red: 980 - (-150) = 1130, up to 1200", -150, 200, true, 1200},
		{"no MOQ: exactly the gap", 650, 0, true, 330},
		{"counted unit: 400.5 up to 401", 579.5, 0, true, 401},
		{"measured unit keeps the fraction", 579.5, 0, false, 400.5},
		{"counted and MOQ: 401 up to 600", 579.5, 200, true, 600},
		{"fractional MOQ: 330 up to 330.4 (118 x 2.8)", 650, 2.8, false, 330.4},
		{"at top of green nothing is due", 980, 200, true, 0},
		{"above top of green nothing is due", 1000, 200, true, 0},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, buffer.RecommendedQuantity(z, tt.nfp, tt.moq, tt.whole), tt.name)
	}
}

func TestEvaluate(t *testing.T) {
	z := buffer.Compute(bearing)
	// 440 on hand + 200 on order - (60 due + 200 future spike) = 380: yellow.
	s := buffer.Evaluate(z, 440, 200, []buffer.Demand{{Outstanding: 60, Due: true}, {Outstanding: 200}, {Outstanding: 100}})
	assert.Equal(t, buffer.Status{OnHand: 440, OnOrder: 200, QualifiedDemand: 260, NetFlowPosition: 380, Zone: buffer.Yellow, PercentOfTOG: 38.78}, s)
}

func TestAlarmOncePerCrossing(t *testing.T) {
	z := buffer.Compute(bearing) // top of yellow 700
	steps := []struct {
		nfp   float64
		alert bool
	}{
		{200, false}, // a new buffer below top of yellow: not a crossing
		{900, false}, // above: armed
		{800, false},
		{700, true},  // at top of yellow: the crossing
		{500, false}, // further down, same crossing
		{100, false}, // into red, still the same crossing
		{701, false}, // back above: re-armed
		{650, true},  // a new crossing
	}
	var a buffer.Alarm
	for i, s := range steps {
		var alert bool
		a, alert = a.Next(z, s.nfp)
		assert.Equal(t, s.alert, alert, "step %d, nfp %v", i, s.nfp)
	}
}

func TestProfileValidate(t *testing.T) {
	err := buffer.Profile{ADU: 0, DLTDays: 0, LeadTimeFactor: 1.5, VariabilityFactor: -0.1, MOQ: -1, OrderCycleDays: -2}.Validate()
	require.Error(t, err)
	var fields []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *buffer.FieldError
		require.True(t, errors.As(e, &fe))
		fields = append(fields, fe.Field)
	}
	assert.Equal(t, []string{"adu", "dlt_days", "lead_time_factor", "variability_factor", "moq", "order_cycle_days"}, fields)
	assert.Contains(t, err.Error(), "lead_time_factor: must be above 0 and at most 1, got 1.5")
	assert.NoError(t, bearing.Validate())
}

// TestLargeFiguresStayFinite: rounding a number too large for its
// decimals leaves it as it is instead of overflowing; Check refuses a
// status that left float64's range.
func TestLargeFiguresStayFinite(t *testing.T) {
	assert.Equal(t, 1e308, buffer.Round(1e308))
	assert.Equal(t, 2.5e302, buffer.Round(2.5e302))
	assert.Equal(t, 1.234568, buffer.Round(1.2345678))
	z := buffer.Zones{TopOfGreen: 1200}
	assert.False(t, math.IsInf(z.PercentOfTopOfGreen(1e308), 0))
	st := buffer.Evaluate(z, 0, 1e308, nil)
	assert.NoError(t, st.Check())
	st = buffer.Evaluate(z, 1e308, 1e308, nil)
	assert.ErrorIs(t, st.Check(), buffer.ErrNotFinite)
	assert.ErrorContains(t, st.Check(), "net flow position is +Inf")
}
