package e2e_test

import (
	"context"
	"testing"

	corev1p "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1p "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	fleetsim "github.com/flotilla-io/flotilla/internal/fleetsim/sdk"
	"github.com/flotilla-io/flotilla/internal/simtest"
)

// TestAChangeOfModeIsRefusedBeforeAnyDelete: a stack deployed in kube mode, with a
// namespace on its cluster, is run again with the program in lite mode. The engine's
// Diff of the cluster refuses it, naming fleetsim:kube, and the namespace is still in
// the stack: nothing was deleted.
func TestAChangeOfModeIsRefusedBeforeAnyDelete(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, simtest.WithKube())
	program := func(lite bool) pulumi.RunFunc {
		return func(ctx *pulumi.Context) error {
			p, err := fleetsim.NewProvider(ctx, "sim-east-1", &fleetsim.ProviderArgs{Lite: lite})
			if err != nil {
				return err
			}
			c, err := cluster.New(ctx, "mode-east", &cluster.Args{
				Cloud: cluster.Sim, Region: "sim-east-1", Version: "1.31",
				Tags: costtags.Tags{"env": "dev", "team": "platform", "cost-center": "cc-7"},
			}, pulumi.Providers(p))
			if err != nil {
				return err
			}
			if c.KubeProvider == nil {
				return nil
			}
			_, err = corev1p.NewNamespace(ctx, "team-ns", &corev1p.NamespaceArgs{
				Metadata: &metav1p.ObjectMetaArgs{Name: pulumi.String("team")},
			}, pulumi.Provider(c.KubeProvider))
			return err
		}
	}
	simtest.Up(t, simtest.Stack(t, sim, "mode", program(false)))

	flipped := simtest.Stack(t, sim, "mode", program(true))
	_, err := simtest.TryUp(t, flipped)
	require.Error(t, err, "a flip to lite mode must be refused")
	assert.Contains(t, err.Error(), `was created in kube mode`)
	assert.Contains(t, err.Error(), `fleetsim:kube`)

	state, err := flipped.Export(context.Background())
	require.NoError(t, err)
	assert.Contains(t, string(state.Deployment), `kubernetes:core/v1:Namespace::team-ns`, "the namespace was not deleted")
}
