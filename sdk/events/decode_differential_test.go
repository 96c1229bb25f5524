package events

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/payload"
)

// parsersBySubject are the generated Parse functions of the current
// versions, by subject; TestDecodeAgreesWithTheOracle checks they cover
// underTest.
var parsersBySubject = map[string]func([]byte) error{
	SubjectCatalogProductCreated:          func(d []byte) error { _, err := ParseProductCreated(d); return err },
	SubjectCatalogProductDiscontinued:     func(d []byte) error { _, err := ParseProductDiscontinued(d); return err },
	SubjectCatalogProductUpdated:          func(d []byte) error { _, err := ParseProductUpdated(d); return err },
	SubjectDDMRPBufferAlertTriggered:      func(d []byte) error { _, err := ParseBufferAlertTriggered(d); return err },
	SubjectDDMRPBufferCalculated:          func(d []byte) error { _, err := ParseBufferCalculated(d); return err },
	SubjectDDMRPBufferStatusChanged:       func(d []byte) error { _, err := ParseBufferStatusChanged(d); return err },
	SubjectExecutionInventoryUpdated:      func(d []byte) error { _, err := ParseInventoryUpdated(d); return err },
	SubjectExecutionPurchaseOrderCreated:  func(d []byte) error { _, err := ParsePurchaseOrderCreated(d); return err },
	SubjectExecutionPurchaseOrderReceived: func(d []byte) error { _, err := ParsePurchaseOrderReceived(d); return err },
	SubjectExecutionSalesOrderCreated:     func(d []byte) error { _, err := ParseSalesOrderCreated(d); return err },
	SubjectExecutionSalesOrderShipped:     func(d []byte) error { _, err := ParseSalesOrderShipped(d); return err },
}

// integerAsDecimal writes every integer of a JSON text as a decimal
// (12 as 12.0), as publishers in other languages often do: a value the
// schema's "integer" still accepts.
var integerAsDecimal = regexp.MustCompile(`([:\[,])(-?[0-9]+)([,}\]])`)

// corpus reads the fuzz corpora of the package: the seeds of
// FuzzParsePayloads and FuzzValidate, and each again with its integers
// written as decimals.
func corpus(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, dir := range []string{"FuzzParsePayloads", "FuzzValidate"} {
		files, err := filepath.Glob(filepath.Join("testdata", "fuzz", dir, "*"))
		require.NoError(t, err)
		require.NotEmpty(t, files, dir)
		for _, f := range files {
			raw, err := os.ReadFile(f)
			require.NoError(t, err)
			var quoted string
			for _, line := range strings.Split(string(raw), "\n") {
				if strings.HasPrefix(line, "[]byte(") {
					quoted = strings.TrimSuffix(strings.TrimPrefix(line, "[]byte("), ")")
				}
			}
			data, err := strconv.Unquote(quoted)
			require.NoError(t, err, f)
			name := dir + "/" + filepath.Base(f)
			out[name] = []byte(data)
			if dec := integerAsDecimal.ReplaceAllString(data, "${1}${2}.0${3}"); dec != data {
				out[name+"/decimal"] = []byte(integerAsDecimal.ReplaceAllString(dec, "${1}${2}.0${3}"))
			}
		}
	}
	return out
}

// TestDecodeAgreesWithTheOracle: over the fuzz corpora, every payload
// jsonschema/v5 accepts for an event decodes into its typed value, and
// every payload it refuses is refused; the counts are printed.
func TestDecodeAgreesWithTheOracle(t *testing.T) {
	require.Len(t, parsersBySubject, len(underTest))
	inputs := corpus(t)
	var accepted, refused, unrepresentable, decimals int
	for _, ev := range underTest {
		parse, ok := parsersBySubject[ev.subject]
		require.True(t, ok, ev.subject)
		for name, data := range inputs {
			want := ev.oracle.ValidateJSON(data)
			err := parse(data)
			switch {
			case want == nil && err == nil:
				accepted++
				if strings.HasSuffix(name, "/decimal") {
					decimals++
				}
			case want != nil && err != nil:
				refused++
			case want == nil && errors.Is(err, payload.ErrUnrepresentable):
				// Only what Go's types cannot hold: an integer beyond
				// int64, a number that rounds out of its bounds.
				unrepresentable++
				assert.True(t, strings.Contains(err.Error(), "beyond int64") || strings.Contains(err.Error(), "differs from the payload"),
					"%s %s: %v", ev.subject, name, err)
				t.Logf("%s %s: valid, but not representable: %v", ev.subject, name, err)
			case want == nil:
				t.Errorf("%s %s: the schema accepts %s, the decoder refuses it: %v", ev.subject, name, data, err)
			default:
				t.Errorf("%s %s: the schema refuses %s (%v), the decoder accepts it", ev.subject, name, data, want)
			}
		}
	}
	assert.Positive(t, accepted)
	assert.Positive(t, decimals, "integers written as decimals decode")
	t.Logf("decode_inputs: %d", len(inputs)*len(underTest))
	t.Logf("decode_accepted: %d", accepted)
	t.Logf("decode_accepted_with_decimal_integers: %d", decimals)
	t.Logf("decode_refused: %d", refused)
	t.Logf("decode_unrepresentable: %d", unrepresentable)
}
