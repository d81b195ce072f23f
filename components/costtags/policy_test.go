package costtags_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/components/costtags"
)

func TestDefaultPolicy(t *testing.T) {
	t.Parallel()
	p := costtags.DefaultPolicy()
	assert.ElementsMatch(t, []string{"env", "team", "cost-center"}, p.Required)
	assert.ElementsMatch(t, []string{"dev", "staging", "prod"}, p.Allowed["env"])
	assert.Equal(t, []string{"env"}, p.Enforced)

	// Each call returns a policy of its own, so one caller's edits never leak.
	p.Required[0] = "changed"
	p.Allowed["env"][0] = "changed"
	assert.Equal(t, "env", costtags.DefaultPolicy().Required[0])
	assert.Equal(t, "dev", costtags.DefaultPolicy().Allowed["env"][0])
}

func TestPolicyValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		policy costtags.Policy
		tags   costtags.Tags
		errs   []string // every fragment must appear; none means valid
		absent []string // fragments that must not appear
	}{
		{name: "default policy satisfied", policy: costtags.DefaultPolicy(),
			tags: costtags.Tags{"env": "prod", "team": "payments", "cost-center": "cc-1", "extra": "anything"}},
		{name: "every problem at once", policy: costtags.DefaultPolicy(),
			tags: costtags.Tags{"env": "qa", "team": "  "},
			errs: []string{
				`tag "env" is "qa"; set it to one of "dev", "staging", "prod"`,
				`required tag "team" is empty; give it a value`,
				`required tag "cost-center" is missing; add it to the stack's tags`,
			}},
		{name: "nil tags", policy: costtags.DefaultPolicy(), tags: nil,
			errs:   []string{`"env" is missing`, `"team" is missing`, `"cost-center" is missing`},
			absent: []string{"set it to one of"}},
		{name: "an empty required value is reported once", policy: costtags.DefaultPolicy(),
			tags:   costtags.Tags{"env": "", "team": "t", "cost-center": "c"},
			errs:   []string{`required tag "env" is empty`},
			absent: []string{"set it to one of"}},
		{name: "allow-list of an optional key applies only when present",
			policy: costtags.Policy{Allowed: map[string][]string{"tier": {"gold", "silver"}}},
			tags:   costtags.Tags{"team": "x"}},
		{name: "allow-list of an optional key",
			policy: costtags.Policy{Allowed: map[string][]string{"tier": {"gold", "silver"}}},
			tags:   costtags.Tags{"tier": "Gold"},
			errs:   []string{`tag "tier" is "Gold"; set it to one of "gold", "silver"`}},
		{name: "empty allow-list allows anything",
			policy: costtags.Policy{Allowed: map[string][]string{"tier": nil}},
			tags:   costtags.Tags{"tier": "anything"}},
		{name: "zero policy allows anything", policy: costtags.Policy{}, tags: costtags.Tags{"": ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.policy.Validate(tc.tags)
			if len(tc.errs) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, frag := range tc.errs {
				assert.Contains(t, err.Error(), frag)
			}
			for _, frag := range tc.absent {
				assert.NotContains(t, err.Error(), frag)
			}
		})
	}
}
