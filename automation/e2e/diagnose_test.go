package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/diagnose"
	"github.com/flotilla-io/flotilla/automation/simcloud"
	"github.com/flotilla-io/flotilla/internal/kubeplane"
	"github.com/flotilla-io/flotilla/internal/simtest"
)

// TestDiagnoseOnRealControlPlanes rolls dev out in kube mode, its spot pool without a
// fallback, and diagnoses pods the real scheduler cannot place and a pod kwok keeps
// not Ready: each gets the right cause and next step, from the real control plane's
// messages. A spot shortage then leaves a spot worker Pending, which both `diagnose`
// and the health gate explain.
func TestDiagnoseOnRealControlPlanes(t *testing.T) {
	t.Parallel()
	f := newFleet(t, simtest.WithKube())
	f.replaceInStack("dev", "fallback: {maxSize: 6, provisionTimeout: 5m}", "fallback: {disabled: true}")
	f.noFallback["sim-east-1/dev-east-1"] = true
	r := f.rollout(devOnly)
	logEvents(t, "rollout", r)
	require.NoError(t, r.err)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cs := devClient(t, f)
	_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "diag"}}, metav1.CreateOptions{})
	require.NoError(t, err)

	// The SpotNodePool's nodes carry its flotilla.io/pool label: the pods select it.
	spotNodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "flotilla.io/capacity=spot"})
	require.NoError(t, err)
	require.Len(t, spotNodes.Items, 2)
	pool := spotNodes.Items[0].Labels["flotilla.io/pool"]
	require.NotEmpty(t, pool)

	spotToleration := corev1.Toleration{Key: "flotilla.io/capacity", Operator: corev1.TolerationOpEqual, Value: "spot", Effect: corev1.TaintEffectNoSchedule}
	huge := diagPod("huge", "64")
	noToleration := diagPod("spot-no-toleration", "100m")
	noToleration.Spec.NodeSelector = map[string]string{"flotilla.io/pool": pool}
	probing := diagPod("probe-failing", "100m")
	probing.Annotations = map[string]string{kubeplane.NotReadyAnnotation: kubeplane.NotReadyReadinessProbe}
	for _, p := range []*corev1.Pod{huge, noToleration, probing} {
		_, err := cs.CoreV1().Pods("diag").Create(ctx, p, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	waitFor(t, ctx, "the scheduler's verdicts and the failing probe", func() bool {
		return unschedulable(ctx, cs, "huge") && unschedulable(ctx, cs, "spot-no-toleration") && hasEvent(ctx, cs, "probe-failing", "Unhealthy")
	})

	d := f.deployer(nil)
	rep, err := d.Diagnose(ctx, automation.DiagnoseRequest{Environment: "dev", Namespace: "diag", MinAge: -1})
	require.NoError(t, err)
	findings := findingsByPod(t, rep)
	require.Len(t, findings, 3, "%+v", findings)

	tooBig := findings["huge"]
	assert.Equal(t, diagnose.CausePodTooBig, tooBig.Cause, tooBig.Summary)
	require.NotNil(t, tooBig.Scheduling)
	assert.True(t, strings.HasPrefix(tooBig.Scheduling.Message, "0/3 nodes are available: "), "the real scheduler's message: %s", tooBig.Scheduling.Message)
	assert.Equal(t, 3, tooBig.Scheduling.Nodes)
	assert.Contains(t, tooBig.Summary, "it requests cpu 64, more than any node it can run on holds")
	assert.Contains(t, tooBig.Next, "lower its requests")

	spot := findings["spot-no-toleration"]
	assert.Equal(t, diagnose.CauseMissingSpotToleration, spot.Cause, spot.Summary)
	require.NotNil(t, spot.Spot)
	assert.Equal(t, pool, spot.Spot.Pool)
	assert.Equal(t, []string{"flotilla.io/capacity=spot:NoSchedule"}, spot.Spot.MissingTolerations)
	assert.Equal(t, map[string]string{"flotilla.io/pool": pool}, spot.Spot.NodeSelector)
	assert.Contains(t, spot.Summary, "1 do not match its node selector or affinity, 2 have a taint it does not tolerate (flotilla.io/capacity=spot:NoSchedule)")
	assert.Contains(t, spot.Next, "tolerations: [{key: flotilla.io/capacity, operator: Equal, value: spot, effect: NoSchedule}]")

	probe := findings["probe-failing"]
	assert.Equal(t, diagnose.KindNotReady, probe.Kind)
	assert.Equal(t, diagnose.CauseReadinessProbe, probe.Cause, probe.Summary)
	assert.Contains(t, probe.Summary, "container app fails its probe 1 time(s) recently, last: Readiness probe failed: HTTP probe failed with statuscode: 503")
	assert.Contains(t, probe.Next, "probe")

	// A spot shortage, with no fallback: a spot worker that selects and tolerates the
	// pool has nowhere to go.
	require.NoError(t, f.sim.Client.SpotShortage(ctx, "sim-east-1", ""))
	waitFor(t, ctx, "the spot nodes to go", func() bool {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "flotilla.io/capacity=spot"})
		return err == nil && len(nodes.Items) == 0
	})
	worker := diagPod("spot-worker", "500m")
	worker.Spec.NodeSelector = map[string]string{"flotilla.io/pool": pool}
	worker.Spec.Tolerations = []corev1.Toleration{spotToleration}
	_, err = cs.CoreV1().Pods("diag").Create(ctx, worker, metav1.CreateOptions{})
	require.NoError(t, err)
	waitFor(t, ctx, "the spot worker's verdict", func() bool { return unschedulable(ctx, cs, "spot-worker") })

	rep, err = d.Diagnose(ctx, automation.DiagnoseRequest{Stack: "dev", Cluster: "east-1", Namespace: "diag", MinAge: -1})
	require.NoError(t, err)
	short := findingsByPod(t, rep)["spot-worker"]
	assert.Equal(t, diagnose.CauseSpotShortage, short.Cause, short.Summary)
	assert.Contains(t, short.Summary, "spot pool dev-east-1-general-spot (flotilla.io/pool="+pool+") has 0 of its 2 nodes Ready: spot capacity is short, and it has no fallback pool to take over")
	assert.Contains(t, short.Next, "enable the spot pool's on-demand fallback")

	// The health gate fails on the short pool, and says why. It is handed the public
	// outputs of an unchanged stack, and takes the credentials from the cloud.
	public := automation.Outputs{"clusters": {Value: map[string]any{"east-1": map[string]any{"name": "dev-east-1", "region": "sim-east-1", "cloud": "sim"}}}}
	health, err := simcloud.NewHealth(f.sim.Client, simcloud.WithSettle(time.Second, 200*time.Millisecond)).Check(ctx, automation.StackRef{Environment: "dev", Stack: "dev"}, public)
	require.NoError(t, err)
	problems := strings.Join(health.Problems(), "\n")
	assert.Contains(t, problems, "east-1: pool dev-east-1-general-spot: 0/2 nodes Ready")
	assert.Contains(t, problems, "east-1: pod diag/spot-worker Pending: 0/1 nodes fit it: 1 do not match its node selector or affinity; spot pool dev-east-1-general-spot (flotilla.io/pool="+pool+") has 0 of its 2 nodes Ready")
	assert.Contains(t, problems, "next: enable the spot pool's on-demand fallback")

	// The command line: findings exit 1, and --output json carries them, no secret.
	f.shareSimHome()
	cmd := exec.CommandContext(ctx, flotilla(t), "diagnose", "--sim", "--env", "dev", "--namespace", "diag", "--min-age", "0",
		"--project", f.dir, "--backend", f.sim.Backend, "--bin", f.sim.Bin, "--output", "json")
	cmd.Env = cliEnv(f.sim)
	out, err := cmd.Output()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "flotilla diagnose: %v\n%s", err, out)
	assert.Equal(t, 1, exit.ExitCode(), "%s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var res struct {
		Diagnosis automation.DiagnoseReport `json:"diagnosis"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &res), "%s", out)
	assert.Equal(t, 4, res.Diagnosis.Findings(), "%s", out)
	f.assertNoSecrets("flotilla diagnose --output json", string(out))
}

func diagPod(name, cpu string) *corev1.Pod {
	q := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("64Mi")}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "diag"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "registry.example/app:1", Resources: corev1.ResourceRequirements{Requests: q, Limits: q},
		}}},
	}
}

// devClient is a client of dev's cluster, from the kubeconfig the simulated cloud hands out.
func devClient(t *testing.T, f *fleet) kubernetes.Interface {
	t.Helper()
	for _, c := range f.sim.State(t).Clusters {
		if c.Name == "dev-east-1" {
			cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(c.Kubeconfig))
			require.NoError(t, err)
			cs, err := kubernetes.NewForConfig(cfg)
			require.NoError(t, err)
			return cs
		}
	}
	t.Fatal("the simulated cloud has no dev-east-1")
	return nil
}

func unschedulable(ctx context.Context, cs kubernetes.Interface, name string) bool {
	p, err := cs.CoreV1().Pods("diag").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Message != "" {
			return true
		}
	}
	return false
}

func hasEvent(ctx context.Context, cs kubernetes.Interface, pod, reason string) bool {
	evs, err := cs.CoreV1().Events("diag").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + pod + ",reason=" + reason})
	return err == nil && len(evs.Items) > 0
}

func waitFor(t *testing.T, ctx context.Context, what string, done func() bool) {
	t.Helper()
	for !done() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func findingsByPod(t *testing.T, rep *automation.DiagnoseReport) map[string]diagnose.Finding {
	t.Helper()
	out := map[string]diagnose.Finding{}
	for _, s := range rep.Stacks {
		require.Empty(t, s.Error, s.Stack.String())
		for _, c := range s.Clusters {
			require.Empty(t, c.Error, c.Name)
			require.Empty(t, c.NotDiagnosable, c.Name)
			for _, f := range c.Findings {
				if f.Pod != "" {
					out[f.Pod] = f
				}
			}
		}
	}
	return out
}
