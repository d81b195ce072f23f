package costtags

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// DefaultPolicy requires env, team and cost-center; env must be dev, staging or prod,
// and the stack's env overrides any env a resource sets itself.
func DefaultPolicy() Policy {
	return Policy{
		Required: []string{"env", "team", "cost-center"},
		Allowed:  map[string][]string{"env": {"dev", "staging", "prod"}},
		Enforced: []string{"env"},
	}
}

// Validate reports every way t breaks the policy at once, or nil.
//
// A required key must be present with a value that is not blank. A key with an
// allow-list must have one of its values; an empty allow-list allows any value.
func (p Policy) Validate(t Tags) error {
	var errs []error
	reported := map[string]bool{}
	for _, k := range p.Required {
		v, ok := t[k]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("required tag %q is missing; add it to the stack's tags", k))
		case strings.TrimSpace(v) == "":
			errs = append(errs, fmt.Errorf("required tag %q is empty; give it a value", k))
		default:
			continue
		}
		reported[k] = true
	}
	for _, k := range sortedKeys(p.Allowed) {
		allowed := p.Allowed[k]
		v, ok := t[k]
		if !ok || len(allowed) == 0 || reported[k] || slices.Contains(allowed, v) {
			continue
		}
		errs = append(errs, fmt.Errorf("tag %q is %q; set it to one of %s", k, v, quoteAll(allowed)))
	}
	return errors.Join(errs...)
}

func quoteAll(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
