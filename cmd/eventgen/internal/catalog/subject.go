package catalog

import (
	"regexp"
	"strings"
)

var (
	// subjectRE is a concrete event subject: two or more lower-case tokens.
	subjectRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)
	// tokenRE is one token of an event subject or a dead-letter prefix.
	tokenRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	// serviceRE is a service name; it becomes a subject token and part of a
	// durable consumer name.
	serviceRE = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	// streamNameRE is a JetStream stream name.
	streamNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	// goNameRE is an exported Go identifier (ASCII).
	goNameRE = regexp.MustCompile(`^[A-Z][A-Za-z0-9_]*$`)
)

// checkSubject returns what is wrong with an event subject, or "".
func checkSubject(s string) string {
	switch {
	case subjectRE.MatchString(s):
		return ""
	case strings.ContainsAny(s, "*>"):
		return quote(s) + " has a wildcard; event subjects must be concrete"
	case !strings.Contains(s, ".") && tokenRE.MatchString(s):
		return quote(s) + " has one token (want at least two, such as \"execution.purchase_order.created\")"
	}
	return quote(s) + " is not valid (want lower-case dot-separated tokens of a-z, 0-9 and \"_\", each starting with a letter, such as \"execution.purchase_order.created\")"
}

// validStreamSubject reports whether s is a NATS subject filter: non-empty
// tokens without white space, "*" for one token and ">" as the last one.
func validStreamSubject(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	tokens := strings.Split(s, ".")
	for i, t := range tokens {
		switch {
		case t == "":
			return false
		case t == ">":
			if i != len(tokens)-1 {
				return false
			}
		case strings.ContainsAny(t, "*>") && t != "*":
			return false
		}
	}
	return true
}

// subjectMatches reports whether the concrete subject matches the NATS
// filter pattern ("*" is one token, a final ">" one or more).
func subjectMatches(pattern, subject string) bool {
	p := strings.Split(pattern, ".")
	s := strings.Split(subject, ".")
	for i, t := range p {
		if t == ">" {
			return len(s) > i
		}
		if i >= len(s) || t != "*" && t != s[i] {
			return false
		}
	}
	return len(p) == len(s)
}

// subjectsOverlap reports whether some concrete subject matches both
// filters.
func subjectsOverlap(a, b string) bool {
	x := strings.Split(a, ".")
	y := strings.Split(b, ".")
	for i := 0; i < len(x) && i < len(y); i++ {
		switch {
		case x[i] == ">" || y[i] == ">":
			return true
		case x[i] == "*" || y[i] == "*" || x[i] == y[i]:
		default:
			return false
		}
	}
	return len(x) == len(y)
}
