package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/ordergate/ordergate/host"
	"github.com/ordergate/ordergate/sdk"
)

func regoInput(in *Input, st *sourceTerms) rego.EvalOption {
	return rego.EvalParsedInput(in.value(st))
}

// holdReasons are the reasons a policy may give; policy_error is the host's.
var holdReasons = []string{
	sdk.HoldCustomRule, sdk.HoldDuplicateOrder, sdk.HoldNotManagedItem,
	sdk.HoldInsufficientQuantity, sdk.HoldDisabledSource, sdk.HoldUnmappedShippingPolicy,
}

// alertSeverities are the severities an alert may have; info is the default.
var alertSeverities = []string{"info", "warning", "critical"}

// mergeOutputs folds every package's outputs into d. Sets are unions; the
// order of items is deterministic (package name, then Rego's own order).
func mergeOutputs(d *sdk.Decision, outs []output, bindings rego.Vars, maxHoldFor time.Duration) error {
	fieldOwner := map[string]string{}
	for _, o := range outs {
		raw, ok := bindings[string(o.vr)]
		if !ok {
			continue
		}
		v, ok := raw.(ast.Value)
		if !ok {
			return fmt.Errorf("package %s: %s: unexpected result type %T", displayPkg(o.pkg), o.rule, raw)
		}
		where := displayPkg(o.pkg) + "." + o.rule
		var err error
		switch o.rule {
		case "tags":
			err = eachString(v, where, func(s string) {
				if !slices.ContainsFunc(d.Tags, func(t sdk.TagDecision) bool { return t.Tag == s }) {
					d.Tags = append(d.Tags, sdk.TagDecision{Tag: s, Package: o.pkg})
				}
			})
		case "notes":
			err = eachString(v, where, func(s string) { d.Notes = append(d.Notes, sdk.NoteDecision{Note: s, Package: o.pkg}) })
		case "holds":
			err = eachObject(v, where, func(m map[string]string) error {
				h := sdk.Hold{Reason: m["reason"], Rule: m["rule"], Message: m["message"], Package: o.pkg}
				if h.Reason == "" {
					h.Reason = sdk.HoldCustomRule
				}
				if !slices.Contains(holdReasons, h.Reason) {
					return fmt.Errorf("%s: unknown hold reason %q (one of %s)", where, h.Reason, strings.Join(holdReasons, ", "))
				}
				if err := timeHold(&h, m, d.EvaluatedAt, maxHoldFor); err != nil {
					return fmt.Errorf("%s: hold of rule %q: %w", where, h.Rule, err)
				}
				d.Holds = append(d.Holds, h)
				return nil
			}, "reason", "rule", "message", "until", "for", "then")
		case "cancel":
			err = eachObject(v, where, func(m map[string]string) error {
				d.Cancels = append(d.Cancels, sdk.Cancellation{Rule: m["rule"], Message: m["message"], Package: o.pkg})
				return nil
			}, "rule", "message")
		case "alerts":
			err = eachObject(v, where, func(m map[string]string) error {
				if m["to"] == "" || m["message"] == "" {
					return fmt.Errorf("%s: an alert needs \"to\" and \"message\"", where)
				}
				if m["severity"] == "" {
					m["severity"] = "info"
				}
				if !slices.Contains(alertSeverities, m["severity"]) {
					return fmt.Errorf("%s: unknown alert severity %q (one of %s)", where, m["severity"], strings.Join(alertSeverities, ", "))
				}
				d.Alerts = append(d.Alerts, sdk.Alert{To: m["to"], Severity: m["severity"], Message: m["message"], Rule: m["rule"], Package: o.pkg})
				return nil
			}, "to", "severity", "message", "rule")
		case "fields":
			err = mergeFields(d, v, o.pkg, where, fieldOwner)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func mergeFields(d *sdk.Decision, v ast.Value, pkg, where string, owner map[string]string) error {
	obj, ok := v.(ast.Object)
	if !ok {
		return fmt.Errorf("%s: must be an object of path to value, got %s", where, ast.ValueName(v))
	}
	return obj.Iter(func(k, val *ast.Term) error {
		path, ok := k.Value.(ast.String)
		if !ok || !host.EditablePath(string(path)) {
			return fmt.Errorf("%s: %s is not an editable field (note, shipping_method, custom_fields.<key>)", where, k)
		}
		s, ok := val.Value.(ast.String)
		if !ok {
			return fmt.Errorf("%s[%s]: value must be a string, got %s", where, k, ast.ValueName(val.Value))
		}
		for _, f := range d.Fields {
			if f.Path != string(path) {
				continue
			}
			if f.Value != string(s) {
				return fmt.Errorf("policy conflict: %s sets %s to %q but %s sets it to %q",
					displayPkg(owner[f.Path])+".fields", f.Path, f.Value, where, string(s))
			}
			return nil
		}
		owner[string(path)] = pkg
		d.Fields = append(d.Fields, sdk.FieldEdit{Path: string(path), Value: string(s), Package: pkg})
		return nil
	})
}

func eachString(v ast.Value, where string, f func(string)) error {
	set, ok := v.(ast.Set)
	if !ok {
		return fmt.Errorf("%s: must be a set (use `%s contains ...`), got %s", where, where[strings.LastIndex(where, ".")+1:], ast.ValueName(v))
	}
	return set.Iter(func(t *ast.Term) error {
		s, ok := t.Value.(ast.String)
		if !ok {
			return fmt.Errorf("%s: items must be strings, got %s", where, t)
		}
		f(string(s))
		return nil
	})
}

// eachObject calls f for every object of a set, with its string fields;
// keys outside allowed and non-string values are errors.
func eachObject(v ast.Value, where string, f func(map[string]string) error, allowed ...string) error {
	set, ok := v.(ast.Set)
	if !ok {
		return fmt.Errorf("%s: must be a set of objects (use `%s contains {...}`), got %s", where, where[strings.LastIndex(where, ".")+1:], ast.ValueName(v))
	}
	return set.Iter(func(t *ast.Term) error {
		obj, ok := t.Value.(ast.Object)
		if !ok {
			return fmt.Errorf("%s: items must be objects, got %s", where, t)
		}
		m := make(map[string]string, obj.Len())
		err := obj.Iter(func(k, val *ast.Term) error {
			key, ok := k.Value.(ast.String)
			if !ok || !slices.Contains(allowed, string(key)) {
				return fmt.Errorf("%s: unknown key %s (allowed: %s)", where, k, strings.Join(allowed, ", "))
			}
			s, ok := val.Value.(ast.String)
			if !ok {
				return fmt.Errorf("%s: %s must be a string, got %s", where, k, val)
			}
			m[string(key)] = string(s)
			return nil
		})
		if err != nil {
			return err
		}
		return f(m)
	})
}

// DefaultMaxHoldFor bounds how far ahead a timed hold may fall due
// (serve --max-hold-for): a hold for "400d" is far likelier a typo than
// a plan.
const DefaultMaxHoldFor = 90 * 24 * time.Hour

// timeHold reads the timing fields of a hold object: until (an RFC 3339
// time) or for (a duration from now, such as "4h", "90m" or "3d"), and
// then ("release", the default, or "review"). Either time must be at most
// maxFor from now.
func timeHold(h *sdk.Hold, m map[string]string, now time.Time, maxFor time.Duration) error {
	until, forText, then := m["until"], m["for"], m["then"]
	switch {
	case until == "" && forText == "":
		if then != "" {
			return fmt.Errorf("then %q needs until or for (when the hold falls due)", then)
		}
		return nil
	case until != "" && forText != "":
		return fmt.Errorf("until and for are both given; give one")
	}
	var at time.Time
	if until != "" {
		t, err := time.Parse(time.RFC3339, until)
		if err != nil {
			return fmt.Errorf("until %q is not an RFC 3339 time such as \"2026-12-24T09:00:00Z\"", until)
		}
		if t.Sub(now) > maxFor {
			return fmt.Errorf("until %s is more than the maximum of %s away", until, formatDays(maxFor))
		}
		at = t.UTC()
	} else {
		d, err := host.ParseDays(forText)
		switch {
		case err != nil:
			return fmt.Errorf("for %q is not a duration such as \"4h\", \"90m\" or \"3d\"", forText)
		case d <= 0:
			return fmt.Errorf("for %q must be positive", forText)
		case d > maxFor:
			return fmt.Errorf("for %q is over the maximum of %s", forText, formatDays(maxFor))
		}
		at = now.Add(d).UTC()
		h.For = forText
	}
	switch then {
	case "":
		then = sdk.HoldThenRelease
	case sdk.HoldThenRelease, sdk.HoldThenReview:
	default:
		return fmt.Errorf("then %q is not %q or %q", then, sdk.HoldThenRelease, sdk.HoldThenReview)
	}
	h.Until, h.Then = &at, then
	return nil
}

func formatDays(d time.Duration) string { return host.FormatDays(d) }

func displayPkg(pkg string) string {
	if pkg == "" {
		return WorkflowRoot
	}
	return WorkflowRoot + "." + pkg
}
