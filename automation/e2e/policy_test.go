package e2e_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
)

// TestPreviewPolicyStopsAReplaceInProd: after prod-canary is up, a change to a field the
// cloud cannot update in place (a pool's instance types) would replace its spot pool;
// prod is protected, so the preview policy refuses it, naming the resource and the
// operation, until AllowReplace lets it through.
func TestPreviewPolicyStopsAReplaceInProd(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	canary := automation.RolloutRequest{Selection: automation.Selection{Stacks: []string{"prod-canary"}}, Approve: []string{"prod"}}
	first := f.rollout(canary)
	logEvents(t, "first rollout", first)
	require.NoError(t, first.err)
	f.assertCloud("prod-canary")
	pool := spotPool(t, f, "prod-west-1")
	require.Equal(t, "m6i.xlarge", pool.InstanceTypes[0])

	f.replaceInStack("prod-canary", "instanceTypes: [m6i.xlarge, m5.xlarge, c6i.xlarge, r6i.large]", "instanceTypes: [m5.xlarge, m6i.xlarge, c6i.xlarge, r6i.large]")
	refused := f.rollout(canary)
	logEvents(t, "refused rollout", refused)
	require.Error(t, refused.err)
	assert.True(t, automation.IsPreviewPolicy(refused.err), "%v", refused.err)
	assert.True(t, automation.IsGateRefused(refused.err), "the CLI exits 3")
	var pe *automation.PreviewPolicyError
	require.True(t, errors.As(refused.err, &pe))
	assert.Equal(t, automation.StackRef{Environment: "prod", Stack: "prod-canary"}, pe.Stack)
	var named bool
	for _, v := range pe.Violations {
		named = named || (strings.Contains(v.URN, "general-spot") && v.Op == "replace")
	}
	assert.True(t, named, "the refusal names the spot pool and its replace: %+v", pe.Violations)
	assert.Contains(t, refused.err.Error(), "--allow-replace")
	assert.Contains(t, refused.err.Error(), "replace urn:pulumi:prod-canary::flotilla::")
	var gateFailed bool
	for _, g := range eventsOf[automation.GateFailed](refused.events) {
		gateFailed = gateFailed || (g.Gate == automation.GatePreview && g.Stack == "prod-canary")
	}
	assert.True(t, gateFailed)
	for _, s := range eventsOf[automation.StepStarted](refused.events) {
		assert.NotEqual(t, automation.StepUp, s.Step, "no up after the policy refused")
	}
	assert.Equal(t, automation.RunGated, refused.journal.Status)
	assert.Equal(t, pool.ID, spotPool(t, f, "prod-west-1").ID, "the pool was not touched")

	allowed := canary
	allowed.AllowReplace = true
	through := f.rollout(allowed)
	logEvents(t, "allowed rollout", through)
	require.NoError(t, through.err)
	after := spotPool(t, f, "prod-west-1")
	assert.NotEqual(t, pool.ID, after.ID, "the spot pool was replaced")
	assert.Equal(t, "m5.xlarge", after.InstanceTypes[0])
	var replaced bool
	for _, d := range eventsOf[automation.StepDone](through.events) {
		replaced = replaced || (d.Step == automation.StepUp && d.Changes["replace"] > 0)
	}
	assert.True(t, replaced, "the up replaced")
	f.assertCloud("prod-canary")
}
