package compat

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
)

// AllowListFile is the name of the allow-list in the catalog directory.
// The catalog loader skips it.
const AllowListFile = catalog.AllowListFile

// Allow is one entry of the allow-list: a breaking change made on purpose.
//
// The file holds one mapping with the key "allow", a list of entries:
//
//	allow:
//	  - subject: execution.purchase_order.created
//	    pointer: /properties/lines/minItems
//	    change: minItems-raised
//	    reason: Orders without lines were never valid in the ERP; no retained event has one.
//
// Every key is required; subject, pointer and change are copied from the
// finding that "eventgen check" prints ("/" is the whole event).
type Allow struct {
	Subject string
	Pointer string // as printed: "/" for the whole event
	Change  Change
	Reason  string
	Pos     catalog.Pos // the entry in the allow-list file
}

func (a Allow) matches(f Finding) bool {
	return a.Subject == f.Subject && a.Pointer == f.PointerText() && a.Change == f.Change
}

func (a Allow) same(b Allow) bool {
	return a.Subject == b.Subject && a.Pointer == b.Pointer && a.Change == b.Change
}

var allowKeys = []string{"change", "pointer", "reason", "subject"}

// ParseAllowList reads an allow-list; file is its path as shown in
// messages. Problems come back as catalog.Diagnostics, every one of them.
func ParseAllowList(file string, data []byte) ([]Allow, error) {
	var diags catalog.Diagnostics
	errorf := func(n *yaml.Node, format string, args ...any) {
		p := catalog.Pos{File: file}
		if n != nil {
			p.Line = n.Line
		}
		diags = append(diags, catalog.Diagnostic{Pos: p, Message: fmt.Sprintf(format, args...)})
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // an empty file
		}
		return nil, catalog.Diagnostics{{Pos: catalog.Pos{File: file}, Message: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	root := docRoot(&doc)
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		errorf(root, `the allow-list must be a mapping with the key "allow"`)
		return nil, diags
	}
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "allow" {
			errorf(k, `unknown key %q in the allow-list (want "allow")`, k.Value)
			continue
		}
		list = v
	}
	if len(diags) > 0 {
		return nil, diags
	}
	if list == nil || list.Tag == "!!null" {
		return nil, nil
	}
	if list.Kind != yaml.SequenceNode {
		errorf(list, `"allow" must be a list of entries {subject, pointer, change, reason}`)
		return nil, diags
	}
	known := Changes()
	var out []Allow
	for _, item := range list.Content {
		if item.Kind != yaml.MappingNode {
			errorf(item, "an allow-list entry must be a mapping {subject, pointer, change, reason}")
			continue
		}
		a := Allow{Pos: catalog.Pos{File: file, Line: item.Line}}
		ok := true
		seen := map[string]bool{}
		for i := 0; i+1 < len(item.Content); i += 2 {
			k, v := item.Content[i], item.Content[i+1]
			if !slices.Contains(allowKeys, k.Value) {
				errorf(k, "unknown key %q in an allow-list entry (want one of %s)", k.Value, quoteAll(allowKeys))
				ok = false
				continue
			}
			if seen[k.Value] {
				errorf(k, "duplicate key %q in an allow-list entry", k.Value)
				ok = false
				continue
			}
			seen[k.Value] = true
			if v.Kind != yaml.ScalarNode || v.Tag != "!!str" || strings.TrimSpace(v.Value) == "" {
				errorf(v, "%q must be a non-empty string", k.Value)
				ok = false
				continue
			}
			switch k.Value {
			case "subject":
				a.Subject = v.Value
			case "pointer":
				if !strings.HasPrefix(v.Value, "/") {
					errorf(v, "pointer %q is not a JSON pointer (want \"/\" or \"/properties/...\", as eventgen check prints it)", v.Value)
					ok = false
				}
				a.Pointer = v.Value
			case "change":
				a.Change = Change(v.Value)
				if !slices.Contains(known, a.Change) {
					errorf(v, "unknown change %q (want one of the changes eventgen check prints, such as %q)", v.Value, PropertyRemoved)
					ok = false
				}
			case "reason":
				a.Reason = strings.TrimSpace(v.Value)
			}
		}
		for _, key := range allowKeys {
			if !seen[key] {
				errorf(item, "allow-list entry is missing %q (every entry needs subject, pointer, change and a reason)", key)
				ok = false
			}
		}
		if ok {
			out = append(out, a)
		}
	}
	if len(diags) > 0 {
		diags.Sort()
		return nil, diags
	}
	return out, nil
}

// Options are the inputs of Check besides the two catalogs.
type Options struct {
	Allow     []Allow // the new version's allow-list
	BaseAllow []Allow // the old version's allow-list

	// History and BaseHistory are the schema histories of the new and the
	// old version (nil when a version has none). Check compares the new
	// catalog with every revision either retains, and reports a History
	// that does not record the new catalog, or lost what BaseHistory
	// retains. When both are nil only the old catalog itself is compared.
	History     *History
	BaseHistory *History
	HistoryFile string    // the history's path as shown; default catalog/schema-history.json
	BaseLabel   string    // how messages name the old version; default "the base"
	Now         time.Time // the time retention is judged at; zero is time.Now()
}

func (o Options) historyFile() string {
	if o.HistoryFile == "" {
		return "catalog/" + HistoryFile
	}
	return o.HistoryFile
}

func (o Options) baseLabel() string {
	if o.BaseLabel == "" {
		return "the base"
	}
	return o.BaseLabel
}

// Report is the verdict of Check.
type Report struct {
	Breaking []Finding // not accepted: the check fails
	Accepted []Finding // accepted by a raised version or the allow-list (Accepted says which)

	// Stale holds the allow-list entries that match no finding and are not
	// in the old version's allow-list: the check fails.
	Stale catalog.Diagnostics

	// Carried holds the entries the old version's allow-list has too: they
	// were used by an earlier change, allow nothing now, and can go.
	Carried []Allow

	// History holds the problems of the schema history: it does not record
	// the new catalog (run eventgen history), or it lost a revision or a
	// reserved name the old version's history retains. The check fails.
	History catalog.Diagnostics
}

// OK reports whether nothing fails the check.
func (r *Report) OK() bool { return len(r.Breaking) == 0 && len(r.Stale) == 0 && len(r.History) == 0 }

// Check compares old with new and judges each finding: accepted when the
// event's version was raised or an allow-list entry names it. Besides the
// old catalog, it compares each version new lists with every revision of
// that version the histories retain, checks the reserved property names,
// and reports a version old lists that new dropped while its events may
// still be in the stream; no version raise accepts these findings, only
// the allow-list.
func Check(old, new *catalog.Catalog, opts Options) (*Report, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	findings, err := Compare(old, new)
	if err != nil {
		return nil, err
	}
	for i, f := range findings {
		if ne, ok := new.Event(f.Subject); ok {
			findings[i].Version = ne.Version
		}
	}
	hist := merge(opts.BaseHistory, opts.History)
	more, err := transitive(old, new, hist, opts)
	if err != nil {
		return nil, err
	}
	for i := range more {
		more[i].transitive = true
	}
	findings = dedupe(append(findings, more...))
	slices.SortStableFunc(findings, compareFindings)
	r := &Report{}
	if opts.History != nil || opts.BaseHistory != nil {
		cur := opts.History
		if cur == nil {
			cur = &History{}
		}
		if stale := cur.Stale(new); len(stale) > 0 {
			r.History = append(r.History, catalog.Diagnostic{Pos: catalog.Pos{File: opts.historyFile()}, Message: fmt.Sprintf(
				"the history does not record the catalog as it is (%s): run go generate ./... (or eventgen history) and commit it", strings.Join(stale, ", "))})
		}
		r.History = append(r.History, lost(opts.BaseHistory, opts.History, opts.historyFile(), opts.baseLabel(), retention(old, new), opts.Now)...)
	}
	var live []Allow
	for _, a := range opts.Allow {
		if slices.ContainsFunc(opts.BaseAllow, a.same) {
			r.Carried = append(r.Carried, a)
		} else {
			live = append(live, a)
		}
	}
	used := make([]bool, len(live))
	for _, f := range findings {
		accepted := ""
		for i, a := range live {
			if a.matches(f) {
				used[i] = true
				if accepted == "" {
					accepted = fmt.Sprintf("allowed by %s:%d: %s", a.Pos.File, a.Pos.Line, a.Reason)
				}
			}
		}
		if oe, ok := old.Event(f.Subject); ok && accepted == "" && !f.transitive {
			if ne, ok := new.Event(f.Subject); ok && ne.Version > oe.Version {
				accepted = "version raised from " + strconv.Itoa(oe.Version) + " to " + strconv.Itoa(ne.Version)
			}
		}
		if accepted == "" {
			r.Breaking = append(r.Breaking, f)
		} else {
			f.Accepted = accepted
			r.Accepted = append(r.Accepted, f)
		}
	}
	for i, a := range live {
		if !used[i] {
			r.Stale = append(r.Stale, catalog.Diagnostic{Pos: a.Pos, Message: fmt.Sprintf(
				"stale allow-list entry: no breaking change %q of %s at %s (remove the entry, or copy subject, pointer and change from a finding)",
				a.Change, a.Subject, a.Pointer)})
		}
	}
	return r, nil
}
