package abuse

import (
	"strings"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/submission"
)

// countLinks counts what a spammer posts as a link: URLs with a scheme,
// bare www. hosts, BBCode and HTML links, case-insensitively. A URL counts
// to the next space, so https://www.example.no is one link. It is the
// regexp `(?i)\bhttps?://\S+|\bwww\.\S+|\[url|<a\s` written as one pass:
// the regexp was half the CPU of a whole submission (make bench).
func countLinks(s string) int {
	n := 0
	for i := 0; i < len(s); {
		url := 0
		switch s[i] | 0x20 { // ASCII lower case
		case 'h':
			if wordStart(s, i) {
				url = schemeLen(s, i)
			}
		case 'w':
			if wordStart(s, i) && hasPrefixFold(s[i:], "www.") && i+4 < len(s) && !isSpace(s[i+4]) {
				url = 4
			}
		case '[' | 0x20:
			if s[i] == '[' && hasPrefixFold(s[i:], "[url") {
				n++
				i += 4
				continue
			}
		case '<' | 0x20:
			if s[i] == '<' && i+2 < len(s) && s[i+1]|0x20 == 'a' && isSpace(s[i+2]) {
				n++
				i += 3
				continue
			}
		}
		if url == 0 {
			i++
			continue
		}
		n++
		for i += url; i < len(s) && !isSpace(s[i]); i++ {
		}
	}
	return n
}

// schemeLen is the length of "http://" or "https://" at s[i:] when a
// non-space follows it, else 0. Like (?i) in Go's regexp, the s may also be
// the long s (ſ), which case-folds to it.
func schemeLen(s string, i int) int {
	if !hasPrefixFold(s[i:], "http") {
		return 0
	}
	j := i + 4
	if j < len(s) && s[j]|0x20 == 's' {
		j++
	} else if strings.HasPrefix(s[j:], "ſ") {
		j += len("ſ")
	}
	if !strings.HasPrefix(s[j:], "://") || j+3 >= len(s) || isSpace(s[j+3]) {
		return 0
	}
	return j + 3 - i
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// wordStart is regexp's \b before a word character at s[i].
func wordStart(s string, i int) bool { return i == 0 || !isWordByte(s[i-1]) }

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// isSpace is regexp's \s (RE2: space, \t, \n, \f, \r; \v is not in it).
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

// readByPeople are the fields staff read in the email: content fields and
// the subject line. _next and the other instructions are not.
func readByPeople(name string) bool {
	return !strings.HasPrefix(name, "_") || name == "_subject"
}

// checkContent applies the form's content rules to the fields. It returns
// the first rule broken (for the metric) and a problem for each failure.
func checkContent(a *config.Abuse, fields []submission.Field) (Rule, []submission.Problem) {
	var (
		first    Rule
		problems []submission.Problem
		links    int
	)
	broke := func(rule Rule, p submission.Problem) {
		if first == "" {
			first = rule
		}
		problems = append(problems, p)
	}
	blocked := map[string]bool{}
	for _, f := range fields {
		if !readByPeople(f.Name) {
			continue
		}
		links += countLinks(f.Value)
		if len(a.Phrases()) > 0 && !blocked[f.Name] {
			text := config.NormalizePhrase(f.Value)
			for _, p := range a.Phrases() {
				if strings.Contains(text, p) {
					// The problem names the field, never the phrase: a
					// spammer should not learn the list by trying.
					blocked[f.Name] = true
					broke(RulePhrase, submission.Problem{Field: f.Name, Code: CodeBlocked})
					break
				}
			}
		}
	}
	if a.MaxLinks != nil && links > *a.MaxLinks {
		broke(RuleLinks, submission.Problem{Field: submission.FormProblem, Code: CodeTooManyLinks, Limit: *a.MaxLinks})
	}
	for _, format := range a.Formats() {
		for _, f := range fields {
			v := strings.TrimSpace(f.Value)
			if f.Name != format.Field || v == "" || format.Re.MatchString(v) {
				continue
			}
			code := CodeInvalidFormat
			if format.Name == "phone" {
				code = CodeInvalidPhone
			}
			broke(RuleFormat, submission.Problem{Field: f.Name, Code: code})
			break
		}
	}
	return first, problems
}
