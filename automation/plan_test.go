package automation_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/components/envset"
)

func TestBuildPlan(t *testing.T) {
	t.Parallel()
	set := threeEnvs()
	for _, tc := range []struct {
		name   string
		sel    automation.Selection
		stages []string
		stacks []string
		err    string
	}{
		{name: "everything", stages: []string{"dev", "staging", "prod"},
			stacks: []string{"dev", "staging-a", "staging-b", "prod-canary", "prod-east", "prod-eu"}},
		{name: "to staging", sel: automation.Selection{To: "staging"}, stages: []string{"dev", "staging"},
			stacks: []string{"dev", "staging-a", "staging-b"}},
		{name: "one environment", sel: automation.Selection{Environments: []string{"prod"}}, stages: []string{"prod"},
			stacks: []string{"prod-canary", "prod-east", "prod-eu"}},
		{name: "stacks drop empty waves", sel: automation.Selection{Stacks: []string{"prod-eu", "dev"}}, stages: []string{"dev", "prod"},
			stacks: []string{"dev", "prod-eu"}},
		{name: "unknown environment", sel: automation.Selection{Environments: []string{"qa"}}, err: `unknown environment "qa": the environments are dev, staging, prod`},
		{name: "unknown --to", sel: automation.Selection{To: "qa"}, err: `unknown environment "qa" in --to`},
		{name: "unknown stack", sel: automation.Selection{Stacks: []string{"prod-mars"}}, err: `unknown stack "prod-mars"`},
		{name: "nothing left", sel: automation.Selection{Environments: []string{"prod"}, Stacks: []string{"dev"}}, err: "nothing to do"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := automation.BuildPlan(set, tc.sel)
			if tc.err != "" {
				require.Error(t, err)
				assert.True(t, automation.IsInputError(err))
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			var stages []string
			for _, st := range p.Stages {
				stages = append(stages, st.Environment)
			}
			assert.Equal(t, tc.stages, stages)
			var stacks []string
			for _, r := range p.Stacks() {
				stacks = append(stacks, r.Stack)
			}
			assert.Equal(t, tc.stacks, stacks)
		})
	}
}

func TestBuildPlanCarriesGatesAndCapsConcurrency(t *testing.T) {
	t.Parallel()
	set := envset.Set{Environments: []envset.Environment{
		{Name: "dev", MaxConcurrency: 4, Waves: [][]string{{"a", "b"}}},
		{Name: "prod", MaxConcurrency: 2, RequiresApproval: true, Protected: true, Soak: time.Hour, MaxFailures: 1},
	}}
	p, err := automation.BuildPlan(set, automation.Selection{MaxConcurrency: 3})
	require.NoError(t, err)
	assert.Equal(t, 3, p.Stages[0].MaxConcurrency)
	prod, ok := p.Stage("prod")
	require.True(t, ok)
	assert.Equal(t, automation.Stage{Environment: "prod", RequiresApproval: true, Protected: true, Soak: time.Hour,
		MaxConcurrency: 2, MaxFailures: 1, Waves: [][]string{{"prod"}}}, prod)
}

func TestPlanSteps(t *testing.T) {
	t.Parallel()
	set := envset.Set{Environments: []envset.Environment{
		{Name: "staging", MaxConcurrency: 2, Soak: time.Minute, Waves: [][]string{{"s1", "s2"}}},
		{Name: "prod", MaxConcurrency: 1, RequiresApproval: true, Waves: [][]string{{"canary"}, {"east"}}},
	}}
	p, err := automation.BuildPlan(set, automation.Selection{})
	require.NoError(t, err)
	got := map[string][]string{}
	var ids []string
	for _, s := range p.Steps() {
		ids = append(ids, s.ID)
		got[s.ID] = s.After
	}
	assert.Equal(t, []string{
		"staging/s1/preview", "staging/s1/up", "staging/s2/preview", "staging/s2/up", "staging/wave-1/health", "staging/soak",
		"prod/approval",
		"prod/canary/preview", "prod/canary/up", "prod/wave-1/health",
		"prod/east/preview", "prod/east/up", "prod/wave-2/health",
	}, ids)
	assert.Empty(t, got["staging/s1/preview"])
	assert.Equal(t, []string{"staging/s1/up", "staging/s2/up"}, got["staging/wave-1/health"])
	assert.Equal(t, []string{"staging/soak"}, got["prod/approval"])
	assert.Equal(t, []string{"prod/approval"}, got["prod/canary/preview"])
	assert.Equal(t, []string{"prod/wave-1/health"}, got["prod/east/preview"])
}
