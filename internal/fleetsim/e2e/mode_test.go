package e2e_test

import (
	"slices"
	"strings"
	"testing"

	corev1p "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1p "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	fleetsim "github.com/flotilla-io/flotilla/internal/fleetsim/sdk"
	"github.com/flotilla-io/flotilla/internal/simtest"
)

// modeProgram is a stack as stacks.Program builds it: its simulator mode is its own
// config fleetsim:kube, passed to cluster.New as SimLite, and in kube mode it deploys a
// namespace and a quota into the cluster.
func modeProgram(ctx *pulumi.Context) error {
	c, err := cluster.New(ctx, "mode-east", &cluster.Args{
		Cloud: cluster.Sim, Region: "sim-east-1", Version: "1.31", SimLite: !fleetsim.KubeMode(ctx),
		Tags: costtags.Tags{"env": "dev", "team": "platform", "cost-center": "cc-7"},
	})
	if err != nil {
		return err
	}
	ctx.Export("kubeconfig", c.Kubeconfig)
	if c.KubeProvider == nil {
		return nil
	}
	ns, err := corev1p.NewNamespace(ctx, "team-ns", &corev1p.NamespaceArgs{
		Metadata: &metav1p.ObjectMetaArgs{Name: pulumi.String("team")},
	}, pulumi.Provider(c.KubeProvider))
	if err != nil {
		return err
	}
	_, err = corev1p.NewResourceQuota(ctx, "team-quota", &corev1p.ResourceQuotaArgs{
		Metadata: &metav1p.ObjectMetaArgs{Name: pulumi.String("quota"), Namespace: ns.Metadata.Name().Elem()},
		Spec:     &corev1p.ResourceQuotaSpecArgs{Hard: pulumi.StringMap{"pods": pulumi.String("10")}},
	}, pulumi.Provider(c.KubeProvider))
	return err
}

// inCluster lists the URNs of the state's resources deployed in a cluster.
func inCluster(t *testing.T, s auto.Stack) []string {
	t.Helper()
	var out []string
	for _, r := range stateResources(t, s) {
		if strings.HasPrefix(r.Type, "kubernetes:") {
			out = append(out, r.URN)
		}
	}
	// An update may write the state's resources in another order.
	slices.Sort(out)
	return out
}

// TestLiteRunOverAKubeStackIsRefused deploys a kube-mode stack, then runs it with its
// stack config fleetsim:kube "off": the fleetsim provider refuses the cluster, naming
// the setting, what would be deleted and what to do; the update fails and deletes
// nothing, in the state or in the cluster's API. FLEETSIM_KUBE=off in the shell of a
// run whose config says kube changes nothing at all.
func TestLiteRunOverAKubeStackIsRefused(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, simtest.WithKube())
	stack := simtest.Stack(t, sim, "mode", modeProgram)
	res := simtest.Up(t, stack)
	before := inCluster(t, stack)
	require.Len(t, before, 3, "the priority expander's ConfigMap, the namespace and the quota: %v", before)
	cs := clientFor(t, res.Outputs["kubeconfig"].Value.(string))
	ctx := ctxT(t)

	require.NoError(t, stack.SetConfig(ctx, "fleetsim:kube", auto.ConfigValue{Value: "off"}))
	_, err := simtest.TryUp(t, stack)
	require.Error(t, err, "a lite run over a cluster with a control plane")
	msg := err.Error()
	assert.Contains(t, msg, `has a Kubernetes control plane, but the program now runs it lite (stack config fleetsim:kube is "off")`)
	assert.Contains(t, msg, "would delete every resource the stack deployed in the cluster")
	assert.Contains(t, msg, "`pulumi config rm fleetsim:kube`")

	assert.Equal(t, before, inCluster(t, stack), "the state keeps every in-cluster resource")
	_, err = cs.CoreV1().ResourceQuotas("team").Get(ctx, "quota", metav1.GetOptions{})
	require.NoError(t, err, "the quota is still in the cluster")
	_, err = cs.CoreV1().ConfigMaps("kube-system").Get(ctx, cluster.PriorityExpanderConfigMap, metav1.GetOptions{})
	require.NoError(t, err, "the priority expander's ConfigMap is still in the cluster")

	// The shell's FLEETSIM_KUBE is no input of the stack.
	ctx = ctxT(t)
	require.NoError(t, stack.SetConfig(ctx, "fleetsim:kube", auto.ConfigValue{Value: "on"}))
	stack.Workspace().SetEnvVar("FLEETSIM_KUBE", "off")
	_, err = stack.Up(ctx, optup.ExpectNoChanges())
	require.NoError(t, err, "FLEETSIM_KUBE=off in the shell plans no change")
	assert.Equal(t, before, inCluster(t, stack))
}

// TestKubeRunOverALiteStackGivesItsControlPlane deploys a stack lite on a lite daemon.
// Asking that daemon for a control plane is refused, naming both settings. Once the
// simulator runs in kube mode on the same home, the stack in kube mode is no refusal: its
// cluster gets a control plane and the in-cluster resources deploy to it.
func TestKubeRunOverALiteStackGivesItsControlPlane(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t)
	stack := simtest.Stack(t, sim, "mode", modeProgram)
	simtest.Up(t, stack)
	require.Empty(t, inCluster(t, stack))
	ctx := ctxT(t)

	require.NoError(t, stack.SetConfig(ctx, "fleetsim:kube", auto.ConfigValue{Value: "on"}))
	_, err := simtest.TryUp(t, stack)
	require.Error(t, err, "a control plane asked of a lite daemon")
	assert.Contains(t, err.Error(), `asks for a Kubernetes control plane (stack config fleetsim:kube is not "off")`)
	assert.Contains(t, err.Error(), "runs lite: it was started with FLEETSIM_KUBE=off")
	assert.Empty(t, inCluster(t, stack))

	sim.Restart(t, true)
	stack = simtest.Stack(t, sim, "mode", modeProgram)
	res := simtest.Up(t, stack)
	assert.Len(t, inCluster(t, stack), 3)
	assert.NotEmpty(t, resourceOutputs(t, stack, fleetsim.ClusterType)["kubeVersion"], "the cluster's state records its control plane")
	cs := clientFor(t, res.Outputs["kubeconfig"].Value.(string))
	ctx = ctxT(t)
	q, err := cs.CoreV1().ResourceQuotas("team").Get(ctx, "quota", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "10", q.Spec.Hard.Pods().String())
	_, err = stack.Up(ctx, optup.ExpectNoChanges())
	require.NoError(t, err, "the next run has nothing to change")
}
