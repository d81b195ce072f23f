package automation_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/diagnose"
)

// diagnoseHarness is a fleet of three environments whose staging-a stack runs clusters
// east-1 and west-1, each behind a fake API server of its own.
func diagnoseHarness(t *testing.T) (*harness, automation.StackDiagnoser) {
	t.Helper()
	h := newHarness(t, threeEnvs())
	h.writeStackFile("staging-a", `config:
  flotilla:environment: staging
  flotilla:clusters:
    - name: east-1
      cloud: sim
      region: sim-east-1
    - cloud: sim
      region: sim-west-1
`)
	h.writeStackFile("staging-b", "config:\n  flotilla:environment: staging\n  flotilla:clusters:\n    - {name: eu-1, cloud: sim, region: sim-eu-1}\n")
	stuck := khWorkload("payments", "api-a", "0/2 nodes are available: 2 Insufficient cpu.")
	apis := map[string][]runtime.Object{
		"https://east.example:6443": {khNode("sys-a-0", "system", "on-demand", true), stuck},
		"https://west.example:6443": {khNode("sys-b-0", "system", "on-demand", true)},
	}
	h.fake.Deployed("staging-a", time.Time{}, automation.Outputs{"kubeconfigs": {Secret: true, Value: map[string]any{
		"east-1":         khKubeconfig("https://east.example:6443"),
		"sim-sim-west-1": khKubeconfig("https://west.example:6443"),
	}}})
	dg := automation.NewKubeHealth(
		automation.WithPoolSource(automation.OutputPools()),
		automation.WithClientsets(func(cfg *rest.Config) (kubernetes.Interface, error) {
			objs, ok := apis[cfg.Host]
			if !ok {
				return nil, errors.New("no such API server")
			}
			return fake.NewClientset(objs...), nil
		}),
	)
	return h, dg
}

func TestDiagnoseRefusesUnknownSelections(t *testing.T) {
	t.Parallel()
	h, dg := diagnoseHarness(t)
	tests := []struct {
		req  automation.DiagnoseRequest
		want string
	}{
		{automation.DiagnoseRequest{Environment: "qa"}, `unknown environment "qa": the environments are dev, staging, prod`},
		{automation.DiagnoseRequest{Stack: "staging-c"}, `unknown stack "staging-c"`},
		{automation.DiagnoseRequest{Environment: "prod", Stack: "staging-a"}, `stack "staging-a" is not in environment "prod": its stacks are prod-canary, prod-east, prod-eu`},
		{automation.DiagnoseRequest{Environment: "staging", Cluster: "north-1"}, `unknown cluster "north-1": the clusters of environment staging are east-1, eu-1, sim-sim-west-1`},
		{automation.DiagnoseRequest{Stack: "staging-b", Cluster: "east-1"}, `unknown cluster "east-1": the clusters of stack staging-b are eu-1`},
		{automation.DiagnoseRequest{Namespace: "Payments_1"}, `namespace "Payments_1" is not a valid namespace name`},
	}
	for _, tt := range tests {
		req := tt.req
		req.Diagnoser = dg
		_, err := h.d.Diagnose(context.Background(), req)
		require.Error(t, err, "%+v", tt.req)
		assert.True(t, automation.IsInputError(err), "%+v: %v", tt.req, err)
		assert.ErrorContains(t, err, tt.want)
	}
	assert.Empty(t, h.fake.CallList(), "nothing was read before the selection was checked")
}

func TestDiagnoseReadsEachClusterThroughItsStackOutputs(t *testing.T) {
	t.Parallel()
	h, dg := diagnoseHarness(t)
	rep, err := h.d.Diagnose(context.Background(), automation.DiagnoseRequest{Environment: "staging", Diagnoser: dg})
	require.NoError(t, err)
	require.Len(t, rep.Stacks, 2)

	a := rep.Stacks[0]
	assert.Equal(t, automation.StackRef{Environment: "staging", Stack: "staging-a"}, a.Stack)
	assert.Empty(t, a.Error)
	require.Len(t, a.Clusters, 2)
	assert.Equal(t, "east-1", a.Clusters[0].Name)
	require.Len(t, a.Clusters[0].Findings, 1)
	f := a.Clusters[0].Findings[0]
	assert.Equal(t, "api-a", f.Pod)
	assert.Equal(t, diagnose.CauseInsufficientResources, f.Cause)
	assert.Equal(t, "sim-sim-west-1", a.Clusters[1].Name)
	assert.Empty(t, a.Clusters[1].Findings)
	assert.Equal(t, 1, a.Clusters[1].Nodes)

	assert.Equal(t, "staging-b", rep.Stacks[1].Stack.Stack)
	assert.True(t, rep.Stacks[1].NotDeployed)
	assert.Empty(t, rep.Stacks[1].Error)
	assert.Equal(t, 1, rep.Findings())
	assert.Empty(t, rep.Unread(), "a stack never deployed has no cluster to read")

	// The JSON a script reads: every cluster has its findings list, even when empty.
	data, err := json.Marshal(rep)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"name":"sim-sim-west-1","findings":[]`)
	assert.Contains(t, string(data), `"cause":"InsufficientResources"`)

	// One cluster: only its stack is read, only it is diagnosed.
	h.fake.Reset()
	rep, err = h.d.Diagnose(context.Background(), automation.DiagnoseRequest{Cluster: "sim-sim-west-1", Diagnoser: dg})
	require.NoError(t, err)
	require.Len(t, rep.Stacks, 1)
	require.Len(t, rep.Stacks[0].Clusters, 1)
	assert.Equal(t, "sim-sim-west-1", rep.Stacks[0].Clusters[0].Name)
	assert.Equal(t, []string{"staging-a"}, h.fake.Stacks("outputs"))

	// Young pods are not reported unless MinAge says so.
	rep, err = h.d.Diagnose(context.Background(), automation.DiagnoseRequest{Cluster: "east-1", MinAge: time.Hour, Diagnoser: dg})
	require.NoError(t, err)
	assert.Empty(t, rep.Stacks[0].Clusters[0].Findings)
	assert.Equal(t, 1, rep.Stacks[0].Clusters[0].Young)
}

func TestDiagnoseReportsAnUnreachableCluster(t *testing.T) {
	t.Parallel()
	h, dg := diagnoseHarness(t)
	h.fake.Deployed("staging-b", time.Time{}, automation.Outputs{"kubeconfigs": {Value: map[string]any{"eu-1": khKubeconfig("https://gone.example:6443")}}})
	rep, err := h.d.Diagnose(context.Background(), automation.DiagnoseRequest{Stack: "staging-b", Diagnoser: dg})
	require.NoError(t, err)
	require.Len(t, rep.Stacks[0].Clusters, 1)
	assert.Contains(t, rep.Stacks[0].Clusters[0].Error, "no client for the API server at https://gone.example:6443")
	assert.Equal(t, []string{"staging/staging-b/eu-1"}, rep.Unread())
}

// diagnosingHealth is a health checker that also diagnoses, as the simulator's does.
type diagnosingHealth struct {
	automation.HealthChecker
	calls []automation.DiagnoseScope
}

func (d *diagnosingHealth) DiagnoseStack(_ context.Context, _ automation.StackRef, _ automation.Outputs, scope automation.DiagnoseScope) ([]automation.ClusterDiagnosis, error) {
	d.calls = append(d.calls, scope)
	return []automation.ClusterDiagnosis{{Name: "east-1", NotDiagnosable: "lite mode"}}, nil
}

func TestDiagnoseUsesTheHealthCheckerThatDiagnoses(t *testing.T) {
	t.Parallel()
	h, _ := diagnoseHarness(t)
	dh := &diagnosingHealth{HealthChecker: h.health}
	d := h.deployer(automation.WithHealth(dh))
	rep, err := d.Diagnose(context.Background(), automation.DiagnoseRequest{Stack: "staging-a", Namespace: "payments", MinAge: 2 * time.Minute})
	require.NoError(t, err)
	assert.Equal(t, []automation.DiagnoseScope{{Namespace: "payments", MinAge: 2 * time.Minute}}, dh.calls)
	assert.Equal(t, "lite mode", rep.Stacks[0].Clusters[0].NotDiagnosable)
	assert.Zero(t, rep.Findings())
	assert.Empty(t, rep.Unread(), "a cluster without a Kubernetes API is not an error")
}
