package abuse

import (
	"regexp"
	"strings"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/submission"
)

// linkPattern finds what a spammer posts as a link: URLs with a scheme,
// bare www. hosts, BBCode and HTML links. A match takes the whole URL, so
// https://www.example.no is one link.
var linkPattern = regexp.MustCompile(`(?i)\bhttps?://\S+|\bwww\.\S+|\[url|<a\s`)

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
		links += len(linkPattern.FindAllStringIndex(f.Value, -1))
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
