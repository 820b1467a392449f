package policy

import (
	"context"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"

	"github.com/ordergate/ordergate/sdk"
)

// OutputRule names one rule of a workflow package's output the way its
// effects name it: a hold's, cancel's or alert's rule field, a tag's or
// note's text, a field edit's path.
type OutputRule struct {
	// Package is below ordergate.workflow, e.g. "review".
	Package string `json:"package"`
	// Output is tags, holds, cancel, notes, fields or alerts.
	Output string `json:"output"`
	// Rule is "" for an output rule whose name is only known once it has
	// an effect (a tag made with sprintf, a hold whose rule field is
	// computed).
	Rule string `json:"rule"`
}

// String is "<package>.<rule>", what a backtest's totals per rule are
// keyed by.
func (r OutputRule) String() string { return displayPkg(r.Package) + "." + r.Rule }

// Effects names the output rule of every effect of d, in the decision's
// order, one entry per effect. A note is named by its text when the
// revision defines it as a constant (a Rules entry), and by "notes"
// otherwise: notes usually carry the order's own data, and counting
// each text apart would count nothing.
func (r *Revision) Effects(d *sdk.Decision) []OutputRule {
	var known []OutputRule
	if r != nil {
		known = r.Rules
	}
	return Effects(d, known)
}

// Effects is Revision.Effects for a decision of a revision of which only
// the rules are known (nil when none).
func Effects(d *sdk.Decision, known []OutputRule) []OutputRule {
	if d == nil || d.Error != "" {
		return nil
	}
	var out []OutputRule
	for _, t := range d.Tags {
		out = append(out, OutputRule{Package: t.Package, Output: "tags", Rule: t.Tag})
	}
	for _, h := range d.Holds {
		out = append(out, OutputRule{Package: h.Package, Output: "holds", Rule: orDefault(h.Rule, h.Reason)})
	}
	for _, c := range d.Cancels {
		out = append(out, OutputRule{Package: c.Package, Output: "cancel", Rule: orDefault(c.Rule, "cancel")})
	}
	for _, n := range d.Notes {
		rule := OutputRule{Package: n.Package, Output: "notes", Rule: n.Note}
		if !slices.Contains(known, rule) {
			rule.Rule = "notes"
		}
		out = append(out, rule)
	}
	for _, f := range d.Fields {
		out = append(out, OutputRule{Package: f.Package, Output: "fields", Rule: f.Path})
	}
	for _, a := range d.Alerts {
		out = append(out, OutputRule{Package: a.Package, Output: "alerts", Rule: orDefault(a.Rule, a.To)})
	}
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// outputRuleNames lists the output rules of the workflow packages,
// named without evaluating any rule body: a hold's rule field written as
// a string, a tag written as a string or read from data (evaluated once
// here), a field's path. An output rule whose name is computed is listed
// with Rule "".
func outputRuleNames(ctx context.Context, c *ast.Compiler, store storage.Store) []OutputRule {
	root := ast.MustParseRef("data." + WorkflowRoot)
	var out []OutputRule
	add := func(r OutputRule) {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	for _, m := range c.Modules {
		if !m.Package.Path.HasPrefix(root) {
			continue
		}
		pkg := strings.TrimPrefix(strings.TrimPrefix(m.Package.Path.String(), root.String()), ".")
		for _, rule := range m.Rules {
			name := rule.Head.Name.String()
			if len(rule.Head.Reference) > 0 {
				name = rule.Head.Reference[0].Value.(ast.Var).String()
			}
			if !slices.Contains(outputRules, name) {
				continue
			}
			names := ruleNames(ctx, c, store, name, rule)
			if len(names) == 0 {
				names = []string{""}
			}
			for _, n := range names {
				add(OutputRule{Package: pkg, Output: name, Rule: n})
			}
		}
	}
	slices.SortFunc(out, func(a, b OutputRule) int {
		return strings.Compare(a.Package+"\x00"+a.Output+"\x00"+a.Rule, b.Package+"\x00"+b.Output+"\x00"+b.Rule)
	})
	return out
}

// ruleNames names the effects one rule of output rule output produces,
// where it can without evaluating the rule.
func ruleNames(ctx context.Context, c *ast.Compiler, store storage.Store, output string, rule *ast.Rule) []string {
	key := rule.Head.Key
	if key == nil {
		key = rule.Head.Value
	}
	switch output {
	case "holds", "cancel", "alerts":
		// Every object literal of the rule with a constant rule field.
		var names []string
		ast.WalkTerms(rule, func(t *ast.Term) bool {
			if obj, ok := t.Value.(ast.Object); ok {
				if v := obj.Get(ast.StringTerm("rule")); v != nil {
					if s, ok := v.Value.(ast.String); ok && !slices.Contains(names, string(s)) {
						names = append(names, string(s))
					}
				}
			}
			return false
		})
		return names
	case "tags", "notes", "fields":
		if key == nil {
			return nil
		}
		if v, ok := key.Value.(ast.Var); ok {
			// The compiler moves a head's expression into the body:
			// `tags contains data.x.tag` becomes `__local0__ = data.x.tag`.
			key = boundTo(rule.Body, v)
			if key == nil {
				return nil
			}
		}
		if s, ok := key.Value.(ast.String); ok {
			return []string{string(s)}
		}
		if ref, ok := key.Value.(ast.Ref); ok && ref.IsGround() && ref.HasPrefix(ast.DefaultRootRef) {
			if s := evalString(ctx, c, store, ref); s != "" {
				return []string{s}
			}
		}
	}
	return nil
}

// boundTo returns the term body assigns to v with an equality of its
// own, or nil.
func boundTo(body ast.Body, v ast.Var) *ast.Term {
	for _, e := range body {
		if !e.IsEquality() && !e.IsAssignment() {
			continue
		}
		terms := e.Operands()
		if len(terms) != 2 {
			continue
		}
		if terms[0].Equal(ast.VarTerm(string(v))) {
			return terms[1]
		}
		if terms[1].Equal(ast.VarTerm(string(v))) {
			return terms[0]
		}
	}
	return nil
}

// evalString evaluates a ground data reference to a string ("" when it
// is not one).
func evalString(ctx context.Context, c *ast.Compiler, store storage.Store, ref ast.Ref) string {
	rs, err := rego.New(rego.ParsedQuery(ast.NewBody(ast.Equality.Expr(ast.VarTerm("x"), ast.NewTerm(ref)))),
		rego.Compiler(c), rego.Store(store)).Eval(ctx)
	if err != nil || len(rs) != 1 {
		return ""
	}
	s, _ := rs[0].Bindings["x"].(string)
	return s
}
