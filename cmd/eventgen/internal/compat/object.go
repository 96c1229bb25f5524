package compat

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
)

// openness is what an object does with properties it does not declare.
type openness int

const (
	open   openness = iota // additionalProperties absent, true, or annotations only
	closed                 // additionalProperties false
	mapped                 // additionalProperties a schema: the values of a map
)

func opennessOf(addl view) openness {
	switch {
	case addl.boolean == "false":
		return closed
	case addl.constraining():
		return mapped
	}
	return open
}

// object compares properties, required and additionalProperties.
func (c *comparer) object(o, n view, field, via string) {
	oa, ok1 := c.sub(c.old, o, "additionalProperties")
	na, ok2 := c.sub(c.new, n, "additionalProperties")
	if !ok1 || !ok2 {
		return
	}
	oState, nState := opennessOf(oa), opennessOf(na)
	pos, ptr := at(n, "additionalProperties")
	switch {
	case oState != closed && nState == closed:
		c.add(AdditionalPropsClosed, pos, ptr, field, "additionalProperties closed (false)",
			"retained old events that carry undeclared properties fail new readers", via)
	case oState == closed && nState != closed:
		c.add(AdditionalPropsOpened, pos, ptr, field, "additionalProperties opened (was false)",
			"new events may carry undeclared properties, which old readers reject", via)
	case oState == mapped || nState == mapped:
		c.schema(oa, na, joinField(field, "*"), via)
	}

	oProps, nProps := propertyNames(o), propertyNames(n)
	oReq, nReq := requiredNames(o), requiredNames(n)
	var names []string
	for _, list := range [][]string{oProps, nProps, keys(oReq), keys(nReq)} {
		for _, name := range list {
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	var gone, added []string
	for _, name := range names {
		oHas := slices.Contains(oProps, name) || oReq[name] != nil
		nHas := slices.Contains(nProps, name) || nReq[name] != nil
		switch {
		case oHas && !nHas:
			gone = append(gone, name)
		case !oHas && nHas:
			added = append(added, name)
		default:
			c.kept(o, n, name, field, via, oReq, nReq)
		}
	}

	renamed := map[string]string{} // old name -> new name
	if oState != mapped && nState != mapped {
		renamed = c.renames(o, n, gone, added, oReq, nReq)
	}
	for _, name := range gone {
		if to, ok := renamed[name]; ok {
			c.renamed(n, name, to, field, via, oReq[name] != nil, oState, nState)
			continue
		}
		fpos, fptr := propertyAt(n, name, nil)
		switch {
		case oReq[name] != nil:
			c.add(PropertyRemoved, fpos, fptr, field, fmt.Sprintf("required property %q removed", name),
				"new events lack it and old readers require it", via)
		case nState == closed:
			c.add(PropertyRemoved, fpos, fptr, field, fmt.Sprintf("optional property %q removed", name),
				"retained old events that carry it fail new readers, which reject undeclared properties (additionalProperties is false)", via)
		case nState == mapped:
			if ov, ok := c.sub(c.old, o, "properties", name); ok {
				c.schema(ov, na, joinField(field, name), via)
			}
		}
	}
	for _, name := range added {
		if slices.Contains(values(renamed), name) {
			continue
		}
		fpos, fptr := propertyAt(n, name, nReq)
		switch {
		case nReq[name] != nil:
			c.add(PropertyAdded, fpos, fptr, field, fmt.Sprintf("required property %q added", name),
				"retained old events lack it and new readers require it", via)
		case oState == closed:
			c.add(PropertyAdded, fpos, fptr, field, fmt.Sprintf("optional property %q added", name),
				"new events that carry it fail old readers, which reject undeclared properties (additionalProperties is false)", via)
		case oState == mapped:
			if nv, ok := c.sub(c.new, n, "properties", name); ok {
				c.schema(oa, nv, joinField(field, name), via)
			}
		}
	}
}

// kept compares a property that both versions have.
func (c *comparer) kept(o, n view, name, field, via string, oReq, nReq map[string]*yaml.Node) {
	switch {
	case oReq[name] == nil && nReq[name] != nil:
		k := n.kws["required"]
		i := slices.Index(k.val.Content, nReq[name])
		c.add(PropertyNowRequired, catalog.Pos{File: k.at.file, Line: nReq[name].Line}, k.at.child("required", fmt.Sprint(i)).ptr, field,
			fmt.Sprintf("property %q is now required", name), "retained old events may lack it, and new readers require it", via)
	case oReq[name] != nil && nReq[name] == nil:
		pos, ptr := at(n, "required")
		c.add(PropertyNowOptional, pos, ptr, field,
			fmt.Sprintf("property %q is no longer required", name), "new events may omit it, and old readers require it", via)
	}
	ov, ok1 := c.sub(c.old, o, "properties", name)
	nv, ok2 := c.sub(c.new, n, "properties", name)
	if ok1 && ok2 {
		c.schema(ov, nv, joinField(field, name), via)
	}
}

// renames pairs properties that disappeared with properties that appeared
// with the same schema and requiredness, when the pairing is unique.
func (c *comparer) renames(o, n view, gone, added []string, oReq, nReq map[string]*yaml.Node) map[string]string {
	candidates := map[string][]string{}
	claims := map[string]int{}
	for _, g := range gone {
		for _, a := range added {
			if (oReq[g] != nil) != (nReq[a] != nil) {
				continue
			}
			ov, ok1 := c.sub(c.old, o, "properties", g)
			nv, ok2 := c.sub(c.new, n, "properties", a)
			if ok1 && ok2 && c.equivalent(ov, nv) {
				candidates[g] = append(candidates[g], a)
				claims[a]++
			}
		}
	}
	pairs := map[string]string{}
	for g, as := range candidates {
		if len(as) == 1 && claims[as[0]] == 1 {
			pairs[g] = as[0]
		}
	}
	return pairs
}

// equivalent reports whether two schemas accept the same values.
func (c *comparer) equivalent(o, n view) bool {
	e := &comparer{old: c.old, new: c.new, subject: c.subject, active: map[string]bool{}}
	e.schema(o, n, "", "")
	return len(e.out) == 0 && len(e.errs) == 0
}

// renamed reports a property renamed from to to, when that breaks.
func (c *comparer) renamed(n view, from, to, field, via string, required bool, oState, nState openness) {
	var reasons []string
	if required {
		reasons = append(reasons, fmt.Sprintf("new events lack %q, which old readers require, and retained old events lack %q, which new readers require", from, to))
	} else {
		if oState == closed {
			reasons = append(reasons, fmt.Sprintf("old readers reject %q in new events as undeclared (additionalProperties is false)", to))
		}
		if nState == closed {
			reasons = append(reasons, fmt.Sprintf("new readers reject %q in retained old events as undeclared (additionalProperties is false)", from))
		}
	}
	if len(reasons) == 0 {
		return // optional, and both objects open
	}
	pos, ptr := propertyAt(n, to, nil)
	c.add(PropertyRenamed, pos, ptr, field, fmt.Sprintf("property %q renamed to %q", from, to), strings.Join(reasons, "; "), via)
}

// propertyAt returns where the property name of n is declared: its key in
// properties, else its entry in required (when req is given), else the
// properties keyword or the schema, with the pointer of the property.
func propertyAt(n view, name string, req map[string]*yaml.Node) (catalog.Pos, string) {
	if k, ok := n.kws["properties"]; ok {
		ptr := k.at.child("properties", name).ptr
		if key, _ := memberKV(k.val, name); key != nil {
			return catalog.Pos{File: k.at.file, Line: key.Line}, ptr
		}
		if req[name] == nil {
			return catalog.Pos{File: k.at.file, Line: k.key.Line}, ptr
		}
	}
	if r := req[name]; r != nil {
		k := n.kws["required"]
		return catalog.Pos{File: k.at.file, Line: r.Line}, k.at.child("required", fmt.Sprint(slices.Index(k.val.Content, r))).ptr
	}
	return n.at.pos(), n.at.child("properties", name).ptr
}

// propertyNames returns the names of the properties keyword, in order.
func propertyNames(v view) []string {
	k, ok := v.kws["properties"]
	if !ok || k.val.Kind != yaml.MappingNode {
		return nil
	}
	var names []string
	for i := 0; i+1 < len(k.val.Content); i += 2 {
		names = append(names, k.val.Content[i].Value)
	}
	return names
}

// requiredNames returns the names of the required keyword with their nodes.
func requiredNames(v view) map[string]*yaml.Node {
	m := map[string]*yaml.Node{}
	if k, ok := v.kws["required"]; ok && k.val.Kind == yaml.SequenceNode {
		for _, n := range k.val.Content {
			if n.Kind == yaml.ScalarNode {
				if _, dup := m[n.Value]; !dup {
					m[n.Value] = n
				}
			}
		}
	}
	return m
}

// keys returns the keys of m in the order of their lines.
func keys(m map[string]*yaml.Node) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b string) int {
		if d := m[a].Line - m[b].Line; d != 0 {
			return d
		}
		if d := m[a].Column - m[b].Column; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	return ks
}

func values(m map[string]string) []string {
	vs := make([]string, 0, len(m))
	for _, v := range m {
		vs = append(vs, v)
	}
	return vs
}
