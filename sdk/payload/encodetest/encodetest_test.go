package encodetest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"

	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/sdk/payload/encodetest"
)

// recorder is a T that keeps the errors.
type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// every holds a field of each kind the generator emits.
type every struct {
	S  string            `json:"s"`
	I  int64             `json:"i"`
	F  float64           `json:"f"`
	B  bool              `json:"b"`
	T  time.Time         `json:"t"`
	U  uuid.UUID         `json:"u"`
	D  payload.Date      `json:"d"`
	P  *string           `json:"p,omitempty"`
	L  []float64         `json:"l"`
	M  map[string]string `json:"m,omitempty"`
	A  any               `json:"a"`
	In []every           `json:"in,omitempty"`
}

// AppendJSON by way of json.Marshal: right by construction, so the checks
// must agree with it on every value.
func (e every) AppendJSON(dst []byte) ([]byte, error) {
	return payload.AppendJSONValue(dst, plain(e))
}

type plain every // without the method, for json.Marshal

// wrong drops the last byte of a correct encoding.
type wrong struct{ S string }

func (w wrong) AppendJSON(dst []byte) ([]byte, error) {
	out, err := payload.AppendJSONValue(dst, struct{ S string }{w.S})
	return out[:len(out)-1], err
}

// failing refuses every value; json.Marshal refuses none.
type failing struct{ S string }

func (failing) AppendJSON(dst []byte) ([]byte, error) { return dst, payload.ErrUnsupportedValue }

// lenient writes NaN, which json.Marshal refuses.
type lenient struct{ F float64 }

func (l lenient) AppendJSON(dst []byte) ([]byte, error) {
	return fmt.Appendf(dst, `{"F":%v}`, l.F), nil
}

func TestCheckRandomAgreesWithARightEncoder(t *testing.T) {
	r := &recorder{}
	assert.Equal(t, 500, encodetest.CheckRandom(r, every{}, 500, 7))
	assert.Empty(t, r.errs)
}

func TestCheckReportsWhatDiffers(t *testing.T) {
	r := &recorder{}
	assert.False(t, encodetest.Check(r, wrong{S: "x"}))
	assert.False(t, encodetest.Check(r, failing{}))
	assert.Less(t, encodetest.CheckRandom(r, lenient{}, 200, 1), 200, "NaN and infinities are drawn")
	assert.True(t, strings.Contains(strings.Join(r.errs, "\n"), "AppendJSON writes"))
	assert.True(t, strings.Contains(strings.Join(r.errs, "\n"), "AppendJSON fails"))
	assert.True(t, strings.Contains(strings.Join(r.errs, "\n"), "json.Marshal fails"))
}
