package policy

import (
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/ordergate/ordergate/host"
)

// maxSourceTerms bounds a sourceTerms cache: past it the cache starts
// again empty, so stock levels that keep changing cannot grow it.
const maxSourceTerms = 4096

// sourceTerms keeps the input term of each source of a line
// (input.context.line_items[].sources[]) by its whole content. Every line
// of every order lists every source of its routing group, and until the
// stock levels change the terms are the same: a group of 50 sources is
// 150 objects for a 3-line order. A term is shared by the inputs that
// use it, as the keys are (OPA changes no term of an input). It is safe
// for concurrent use; the zero value is ready.
type sourceTerms struct {
	current atomic.Pointer[sourceTermMap]
}

type sourceTermMap struct {
	terms sync.Map // host.SourceContext -> *ast.Term
	n     atomic.Int64
}

// term returns the term of s, from the cache or built and added.
func (c *sourceTerms) term(s *host.SourceContext) *ast.Term {
	m := c.current.Load()
	if m != nil {
		if t, ok := m.terms.Load(*s); ok {
			return t.(*ast.Term)
		}
	}
	t := sourceValue(s)
	if m == nil || m.n.Load() >= maxSourceTerms {
		fresh := new(sourceTermMap)
		if !c.current.CompareAndSwap(m, fresh) {
			return t // another call started it afresh; this term goes uncached
		}
		m = fresh
	}
	if _, loaded := m.terms.LoadOrStore(*s, t); !loaded {
		m.n.Add(1)
	}
	return t
}

func sourceValue(s *host.SourceContext) *ast.Term {
	return object(
		item("id", str(s.ID)),
		item("name", str(s.Name)),
		item("enabled", boolean(s.Enabled)),
		item("disabled_by", str(s.DisabledBy)),
		item("available", integer(s.Available)),
	)
}
