// Package abuse keeps spam and floods from costing an email: honeypot
// fields, a signed form-age token, content rules, captcha verification and
// rate limits, each configured per form (config.Abuse). It decides; package
// httpapi turns its decisions into status codes.
//
// A submission passes two steps. Screen runs before the fields are
// validated and needs no network: it takes the control fields out and
// catches what is plainly spam, which is answered like a success so that a
// bot learns nothing. Admit runs after validation, just before anything is
// sent: it checks the rate limits and the captcha, whose answers are
// single-use and should not be spent on a post that a typo will refuse.
package abuse

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/opt-e/kontakt/internal/config"
	"github.com/opt-e/kontakt/internal/metrics"
	"github.com/opt-e/kontakt/internal/submission"
)

// Rule names what caught a submission. Rules are metric dimensions and log
// values: a fixed set, never visitor input.
type Rule string

// Rules.
const (
	RuleHoneypot     Rule = "honeypot"
	RuleTokenMissing Rule = "form_token_missing"
	RuleTokenInvalid Rule = "form_token_invalid"
	RuleTokenTooFast Rule = "form_token_too_fast"
	RuleTokenExpired Rule = "form_token_expired"
	RuleLinks        Rule = "content_links"
	RulePhrase       Rule = "content_phrase"
	RuleFormat       Rule = "content_format"
	RuleRateIP       Rule = "rate_limit_ip"
	// RuleRateUpload: too many direct uploads asked for from one address.
	RuleRateUpload Rule = "rate_limit_upload"
	// RuleRateForm is the form's ceiling. It refuses nothing: a post over
	// it is held (see Admit).
	RuleRateForm           Rule = "rate_limit_form"
	RuleRateUnavailable    Rule = "rate_limit_unavailable"
	RuleCaptchaMissing     Rule = "captcha_missing"
	RuleCaptchaFailed      Rule = "captcha_failed"
	RuleCaptchaUnavailable Rule = "captcha_unavailable"
)

// MetricBlocked is the metric counting caught posts.
const MetricBlocked = "Blocked"

// MetricHeld counts posts held over a form's ceiling (published with the
// function's name, which the template's alarm watches).
const MetricHeld = "SubmissionsHeld"

// TokenField is the hidden field that carries the form-age token.
const TokenField = "_t"

// Problem codes of the content rules and checks that a visitor can fix.
const (
	CodeTooManyLinks    = "too_many_links"
	CodeBlocked         = "blocked_content"
	CodeInvalidPhone    = "invalid_phone"
	CodeInvalidFormat   = "invalid_format"
	CodeFormExpired     = "form_expired"
	CodeCaptchaRequired = "captcha_required"
	CodeCaptchaFailed   = "captcha_failed"
)

// Kind says how a refusal is answered.
type Kind int

const (
	// Limited: too many posts; try again after RetryAfter.
	Limited Kind = iota + 1
	// Invalid: the visitor can fix it (Problem names the field).
	Invalid
	// Unavailable: a check could not be made, so nothing is accepted (fail
	// closed); try again after RetryAfter.
	Unavailable
)

// Refusal is why Admit refused a submission.
type Refusal struct {
	Kind       Kind
	Rule       Rule
	Problem    submission.Problem
	RetryAfter time.Duration
}

func (r *Refusal) Error() string { return "refused: " + string(r.Rule) }

// UnavailableRetry is what a visitor is told to wait when a check could not
// be made.
const UnavailableRetry = 30 * time.Second

// Guard applies the rules. A zero Guard still applies the rules that need
// no keys or network (honeypots, content rules); the wiring in package app
// sets the rest for every function.
type Guard struct {
	// Tokens signs and checks form-age tokens; nil when no form uses them.
	Tokens *Tokens
	// Captcha verifies captcha answers; nil when no form uses one.
	Captcha *Verifier
	// Counter counts posts for the rate limits; nil turns them off.
	Counter Counter
	// IPKey salts the hash of source IPs, so that a counter never holds an
	// IP address and cannot be reversed by hashing all 2^32 of them.
	IPKey     []byte
	ipHashers sync.Pool // of HMACs keyed with IPKey
	// CounterTimeout bounds one counter call.
	CounterTimeout time.Duration
	// Metrics counts each caught post as the metric Blocked with the
	// dimensions form and rule (RuleRateUnavailable: a post let through
	// unchecked), and each held post as MetricHeld under its Function.
	// Never anything a visitor sent.
	Metrics *metrics.EMF
	Log     *slog.Logger
	Now     func() time.Time
}

// Screened is a submission after Screen.
type Screened struct {
	// Fields are the submitted fields without the control fields
	// (honeypots, _t, captcha answers), for validation.
	Fields []submission.Field
	// Spam is the rule that caught a bot, or "". Spam is answered like a
	// success, and nothing is sent or stored.
	Spam Rule
	// Problems are content rule failures the form refuses with a 422.
	Problems []submission.Problem
	// CaptchaResponse is the captcha widget's answer, for Admit.
	CaptchaResponse string
}

// captchaFields are the captcha widgets' standard fields. They are never
// content, whichever provider the form uses.
var captchaFields = []string{"cf-turnstile-response", "h-captcha-response", "g-recaptcha-response"}

// IssueToken signs a form-age token for form, issued at now; false when
// no form uses tokens (no key to sign with).
func (g *Guard) IssueToken(form string, now time.Time) (string, bool) {
	if g == nil || g.Tokens == nil {
		return "", false
	}
	return g.Tokens.Issue(form, now), true
}

// Screen applies the rules that need no network, in order of cost:
// honeypots, the form-age token, then the content rules.
func (g *Guard) Screen(form *config.Form, fields []submission.Field) *Screened {
	a := &form.Abuse
	sc := &Screened{Fields: make([]submission.Field, 0, len(fields))}
	var (
		honeypot bool
		token    string
		answers  = map[string]string{}
	)
	for _, f := range fields {
		switch {
		case a.IsHoneypot(f.Name):
			honeypot = honeypot || strings.TrimSpace(f.Value) != ""
		case f.Name == TokenField:
			token = strings.TrimSpace(f.Value)
		case isCaptchaField(f.Name):
			answers[f.Name] = strings.TrimSpace(f.Value)
		default:
			sc.Fields = append(sc.Fields, f)
		}
	}
	if a.Captcha != nil {
		sc.CaptchaResponse = captchaAnswer(a.Captcha.Provider, answers)
	}
	if honeypot {
		return g.spam(form, sc, RuleHoneypot)
	}
	if a.FormToken != nil {
		switch rule := g.checkToken(form, token); rule {
		case "":
		case RuleTokenExpired:
			g.count(form, rule)
			sc.Problems = append(sc.Problems, submission.Problem{Field: submission.FormProblem, Code: CodeFormExpired})
		default:
			return g.spam(form, sc, rule)
		}
	}
	if rule, problems := checkContent(a, sc.Fields); rule != "" {
		if a.ContentAction == config.ContentSpam {
			return g.spam(form, sc, rule)
		}
		g.count(form, rule)
		sc.Problems = append(sc.Problems, problems...)
	}
	return sc
}

func isCaptchaField(name string) bool {
	for _, c := range captchaFields {
		if name == c {
			return true
		}
	}
	return false
}

func (g *Guard) spam(form *config.Form, sc *Screened, rule Rule) *Screened {
	g.count(form, rule)
	sc.Spam = rule
	return sc
}

func (g *Guard) checkToken(form *config.Form, token string) Rule {
	if token == "" {
		return RuleTokenMissing
	}
	if g == nil || g.Tokens == nil {
		// The wiring refuses to start without keys when a form uses
		// tokens; should it happen anyway, nothing is let through.
		return RuleTokenInvalid
	}
	t := form.Abuse.FormToken
	return g.Tokens.Check(form.ID, token, g.now(),
		time.Duration(t.MinSeconds)*time.Second, time.Duration(t.MaxAgeSeconds)*time.Second)
}

// Admit applies the rules that cost a call, just before the submission is
// sent: the per-IP limit first (a single flooding address costs no captcha
// call), then the captcha, then the form's ceiling (which only posts that
// passed everything else use up, so a bot failing captchas cannot exhaust
// it for people). Without a captcha the two limits are counted at the same
// time (see limits). sourceIP is the address API Gateway saw, never a
// header. It returns nil, a *Refusal, or submission.ErrHold for a post over
// the form's ceiling: the ceiling bounds what a flood costs, and a few
// flooding addresses must not lock real visitors out, so such a post is
// stored and emailed later rather than refused.
func (g *Guard) Admit(ctx context.Context, form *config.Form, sc *Screened, sourceIP string) error {
	if g == nil {
		if form.Abuse.Captcha != nil {
			return g.refuse(form, &Refusal{Kind: Unavailable, Rule: RuleCaptchaUnavailable, RetryAfter: UnavailableRetry})
		}
		return nil
	}
	rl := form.Abuse.RateLimit
	w := newWindow(g.now(), time.Duration(rl.WindowSeconds)*time.Second)
	ip := ipKey(form.ID, g.hashIP(sourceIP), w)
	c := form.Abuse.Captcha
	if c == nil {
		return g.limits(ctx, form, w, ip)
	}
	if err := g.limit(ctx, form, w, ip, rl.PerIP, RuleRateIP); err != nil {
		return err
	}
	if err := g.verifyCaptcha(ctx, form, c, sc.CaptchaResponse, sourceIP); err != nil {
		return err
	}
	if !g.under(ctx, form, w, formKey(form.ID, w), rl.PerForm, RuleRateForm) {
		return g.hold(ctx, form)
	}
	return nil
}

// AdmitUpload counts a request for a direct upload against its address's
// own limit: the form's per-address limit times its files per message, in
// the same window (a visitor asks for one upload per file, then posts once).
// Without it anyone on an allowed origin could have kontakt sign upload
// after upload. It returns nil or a *Refusal (429); a counter that cannot
// be reached lets the request through, as for posts. No captcha here: its
// answer comes with the post, which is checked as ever.
func (g *Guard) AdmitUpload(ctx context.Context, form *config.Form, sourceIP string) error {
	if g == nil || form.Files == nil {
		return nil
	}
	rl := form.Abuse.RateLimit
	w := newWindow(g.now(), time.Duration(rl.WindowSeconds)*time.Second)
	return g.limit(ctx, form, w, uploadKey(form.ID, g.hashIP(sourceIP), w), rl.PerIP*form.Files.MaxFiles, RuleRateUpload)
}

func (g *Guard) verifyCaptcha(ctx context.Context, form *config.Form, c *config.Captcha, answer, sourceIP string) error {
	field := CaptchaField(c.Provider)
	if answer == "" {
		return g.refuse(form, &Refusal{Kind: Invalid, Rule: RuleCaptchaMissing, Problem: submission.Problem{Field: field, Code: CodeCaptchaRequired}})
	}
	if g.Captcha == nil {
		return g.refuse(form, &Refusal{Kind: Unavailable, Rule: RuleCaptchaUnavailable, RetryAfter: UnavailableRetry})
	}
	remoteIP := ""
	if c.SendIP {
		remoteIP = sourceIP
	}
	ok, err := g.Captcha.Verify(ctx, c, answer, remoteIP)
	switch {
	case err != nil:
		g.log().WarnContext(ctx, "captcha verification unavailable",
			slog.String("form", form.ID), slog.String("provider", c.Provider), slog.String("error_class", submission.ErrorClass(err)))
		return g.refuse(form, &Refusal{Kind: Unavailable, Rule: RuleCaptchaUnavailable, RetryAfter: UnavailableRetry})
	case !ok:
		return g.refuse(form, &Refusal{Kind: Invalid, Rule: RuleCaptchaFailed, Problem: submission.Problem{Field: field, Code: CodeCaptchaFailed}})
	}
	return nil
}

func (g *Guard) refuse(form *config.Form, r *Refusal) error {
	g.count(form, r.Rule)
	return r
}

func (g *Guard) count(form *config.Form, rule Rule) {
	if g != nil && g.Metrics != nil {
		g.Metrics.Count(MetricBlocked, metrics.Dimension{Name: "form", Value: form.ID}, metrics.Dimension{Name: "rule", Value: string(rule)})
	}
}

func (g *Guard) now() time.Time {
	if g != nil && g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

func (g *Guard) log() *slog.Logger {
	if g != nil && g.Log != nil {
		return g.Log
	}
	return slog.New(slog.DiscardHandler)
}

// String makes a Kind readable in test failures.
func (k Kind) String() string {
	switch k {
	case Limited:
		return "limited"
	case Invalid:
		return "invalid"
	case Unavailable:
		return "unavailable"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}
