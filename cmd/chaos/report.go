package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Result is what a scenario measured. The six figures every scenario
// prints come first; extra figures follow in the order they were added.
// A scenario passes when nothing was lost, nothing was applied twice and
// no other check failed.
type Result struct {
	Scenario string

	Published         int           // events committed or acknowledged by their publisher
	Stored            int           // distinct event ids in the stream
	Applied           int           // distinct events applied by the consumers
	Lost              int           // committed or acknowledged, never stored or never applied
	DuplicatesApplied int           // applications beyond the first of one event
	Drain             time.Duration // from the end of the fault and the load to everything applied

	extra    []figure
	problems []string
}

type figure struct {
	name  string
	value string
}

// Add records an extra figure, printed as "name: value".
func (r *Result) Add(name string, value any) {
	var s string
	switch v := value.(type) {
	case time.Duration:
		s = fmt.Sprint(v.Milliseconds())
	case float64:
		s = fmt.Sprintf("%.1f", v)
	default:
		s = fmt.Sprint(v)
	}
	for i := range r.extra {
		if r.extra[i].name == name {
			r.extra[i].value = s
			return
		}
	}
	r.extra = append(r.extra, figure{name, s})
}

// Problemf records a failed check besides lost and duplicate events.
func (r *Result) Problemf(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

// Check fails the result with msg unless ok.
func (r *Result) Check(ok bool, format string, args ...any) {
	if !ok {
		r.Problemf(format, args...)
	}
}

// Err returns why the scenario failed, or nil.
func (r *Result) Err() error {
	var errs []error
	if r.Lost != 0 {
		errs = append(errs, fmt.Errorf("%d events lost", r.Lost))
	}
	if r.DuplicatesApplied != 0 {
		errs = append(errs, fmt.Errorf("%d events applied twice", r.DuplicatesApplied))
	}
	for _, p := range r.problems {
		errs = append(errs, errors.New(p))
	}
	return errors.Join(errs...)
}

// Print writes the result as "name: value" lines, the block starting
// with "scenario: NAME".
func (r *Result) Print(w io.Writer) {
	var b strings.Builder
	line := func(name string, v any) { fmt.Fprintf(&b, "%s: %v\n", name, v) }
	line("scenario", r.Scenario)
	line("published", r.Published)
	line("stored", r.Stored)
	line("applied", r.Applied)
	line("lost", r.Lost)
	line("duplicates_applied", r.DuplicatesApplied)
	line("drain_ms", r.Drain.Milliseconds())
	for _, f := range r.extra {
		line(f.name, f.value)
	}
	result := "pass"
	if r.Err() != nil {
		result = "FAIL"
	}
	line("result", result)
	for _, p := range r.problems {
		line("problem", p)
	}
	_, _ = io.WriteString(w, b.String())
}
