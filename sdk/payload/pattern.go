package payload

import (
	"math"
	"regexp"
	"regexp/syntax"
	"unicode"
	"unicode/utf8"
)

// Pattern is a compiled "pattern" keyword: a Go regular expression, as
// jsonschema/v5 compiles it, matched as regexp.MatchString matches it. An
// expression that is a plain anchored sequence of characters and character
// classes, each repeated a fixed or bounded number of times, and that a
// single left-to-right pass decides (such as ^[A-Z]{3}$ or
// ^PO-[0-9]{4}-[0-9]{6}$), is matched without the regexp machine.
type Pattern struct {
	re    *regexp.Regexp
	items []patternItem // nil: the regexp machine decides
}

// patternItem is a character class repeated min to max times (max < 0:
// unbounded).
type patternItem struct {
	ascii    [256]bool // by byte: only ASCII ones are set
	ranges   []rune    // pairs, for the runes beyond ASCII
	min, max int       // max: math.MaxInt when unbounded
}

func (it *patternItem) has(r rune) bool {
	if r < utf8.RuneSelf {
		return it.ascii[r]
	}
	for i := 0; i+1 < len(it.ranges); i += 2 {
		if r >= it.ranges[i] && r <= it.ranges[i+1] {
			return true
		}
	}
	return false
}

// MustPattern compiles a pattern; it panics if expr is not a Go regular
// expression.
func MustPattern(expr string) *Pattern {
	p := &Pattern{re: regexp.MustCompile(expr)}
	p.items = simplePattern(expr)
	return p
}

// String returns the expression.
func (p *Pattern) String() string { return p.re.String() }

// MatchString reports whether s contains a match of the expression.
func (p *Pattern) MatchString(s string) bool {
	if p.items == nil {
		return p.re.MatchString(s)
	}
	i := 0
	for k := range p.items {
		it := &p.items[k]
		n := 0
		for i < len(s) && n < it.max {
			// A byte beyond ASCII is in no class without ranges.
			if c := s[i]; c < utf8.RuneSelf || it.ranges == nil {
				if !it.ascii[c] {
					break
				}
				i++
				n++
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if !it.has(r) {
				break
			}
			i += size
			n++
		}
		if n < it.min {
			return false
		}
	}
	return i == len(s)
}

// simplePattern returns the items of expr when it is ^item...item$ and the
// greedy pass above is exact: every item with a choice of how many
// characters it takes shares no character with the items after it, up to
// the next one that must take one. Otherwise nil.
func simplePattern(expr string) []patternItem {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil || re.Op != syntax.OpConcat || len(re.Sub) < 2 {
		return nil
	}
	subs := re.Sub
	if subs[0].Op != syntax.OpBeginText || subs[len(subs)-1].Op != syntax.OpEndText {
		return nil
	}
	var items []patternItem
	class := func(r *syntax.Regexp) ([]rune, bool) {
		switch {
		case r.Op == syntax.OpCharClass:
			return r.Rune, true
		case r.Op == syntax.OpLiteral && len(r.Rune) == 1 && r.Flags&syntax.FoldCase == 0:
			return []rune{r.Rune[0], r.Rune[0]}, true
		case r.Op == syntax.OpAnyCharNotNL:
			return []rune{0, '\n' - 1, '\n' + 1, unicode.MaxRune}, true
		case r.Op == syntax.OpAnyChar:
			return []rune{0, unicode.MaxRune}, true
		}
		return nil, false
	}
	add := func(ranges []rune, lo, hi int) {
		if hi < 0 {
			hi = math.MaxInt
		}
		it := patternItem{min: lo, max: hi}
		for i := 0; i+1 < len(ranges); i += 2 {
			for r := ranges[i]; r <= ranges[i+1] && r < utf8.RuneSelf; r++ {
				it.ascii[r] = true
			}
			if ranges[i+1] >= utf8.RuneSelf {
				it.ranges = append(it.ranges, max(ranges[i], utf8.RuneSelf), ranges[i+1])
			}
		}
		items = append(items, it)
	}
	for _, sub := range subs[1 : len(subs)-1] {
		switch sub.Op {
		case syntax.OpLiteral:
			if sub.Flags&syntax.FoldCase != 0 {
				return nil
			}
			for _, r := range sub.Rune {
				add([]rune{r, r}, 1, 1)
			}
			continue
		case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
			ranges, ok := class(sub.Sub[0])
			if !ok {
				return nil
			}
			bounds := map[syntax.Op][2]int{syntax.OpStar: {0, -1}, syntax.OpPlus: {1, -1}, syntax.OpQuest: {0, 1}, syntax.OpRepeat: {sub.Min, sub.Max}}[sub.Op]
			add(ranges, bounds[0], bounds[1])
			continue
		}
		ranges, ok := class(sub)
		if !ok {
			return nil
		}
		add(ranges, 1, 1)
	}
	for i := range items {
		if items[i].min == items[i].max {
			continue
		}
		for j := i + 1; j < len(items); j++ {
			if overlap(&items[i], &items[j]) {
				return nil
			}
			if items[j].min > 0 {
				break
			}
		}
	}
	return items
}

func overlap(a, b *patternItem) bool {
	for r := range a.ascii {
		if a.ascii[r] && b.ascii[r] {
			return true
		}
	}
	for i := 0; i+1 < len(a.ranges); i += 2 {
		for j := 0; j+1 < len(b.ranges); j += 2 {
			if a.ranges[i] <= b.ranges[j+1] && b.ranges[j] <= a.ranges[i+1] {
				return true
			}
		}
	}
	return false
}
