package e2e_test

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1p "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1p "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8s "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/components/spotpool"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/simtest"
)

// TestRealKubernetesBehindTheSim brings a sim cluster with a spot pool up through the
// real engine in kube mode, and checks the cluster's real API server: its Nodes match
// the pools, in-cluster resources deploy through the Pulumi Kubernetes provider, the real
// scheduler leaves an unschedulable pod Pending, a spot shortage moves a pool's pod to a
// fallback Node and spot returns when it clears, and destroy stops the control plane.
func TestRealKubernetesBehindTheSim(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, simtest.WithKube())
	stack := simtest.Stack(t, sim, "kube", func(ctx *pulumi.Context) error {
		c, err := cluster.New(ctx, "kube-east", &cluster.Args{
			Cloud: cluster.Sim, Region: "sim-east-1", Version: "1.31",
			Tags: costtags.Tags{"env": "dev", "team": "platform", "cost-center": "cc-7"},
		})
		if err != nil {
			return err
		}
		if c.KubeProvider == nil {
			return fmt.Errorf("kube mode: KubeProvider is nil")
		}
		if _, err := spotpool.New(ctx, "app", &spotpool.Args{
			Cluster: c, InstanceTypes: []string{"sim.large", "sim.xlarge"}, MinSize: 2, MaxSize: 4,
			Fallback: spotpool.Fallback{MaxSize: 3},
		}); err != nil {
			return err
		}
		ns, err := corev1p.NewNamespace(ctx, "team-ns", &corev1p.NamespaceArgs{
			Metadata: &metav1p.ObjectMetaArgs{Name: pulumi.String("team")},
		}, pulumi.Provider(c.KubeProvider))
		if err != nil {
			return err
		}
		if _, err := corev1p.NewResourceQuota(ctx, "team-quota", &corev1p.ResourceQuotaArgs{
			Metadata: &metav1p.ObjectMetaArgs{Name: pulumi.String("quota"), Namespace: ns.Metadata.Name().Elem()},
			Spec:     &corev1p.ResourceQuotaSpecArgs{Hard: pulumi.StringMap{"pods": pulumi.String("10")}},
		}, pulumi.Provider(c.KubeProvider)); err != nil {
			return err
		}
		ctx.Export("kubeconfig", c.Kubeconfig)
		ctx.Export("clusterName", c.Name)
		return nil
	})
	res := simtest.Up(t, stack)
	kubeconfig, ok := res.Outputs["kubeconfig"].Value.(string)
	require.True(t, ok)
	assert.True(t, res.Outputs["kubeconfig"].Secret)
	cs := clientFor(t, kubeconfig)
	ctx := ctxT(t)

	// Nodes match the pools: 2 system + 2 spot, with labels, taints and capacity.
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "flotilla.io/pool=app"})
	require.NoError(t, err)
	require.Len(t, nodes.Items, 2, "the spot pool's two ready nodes")
	for _, n := range nodes.Items {
		assert.Equal(t, "spot", n.Labels["flotilla.io/capacity"])
		assert.Equal(t, "sim.large", n.Labels["node.kubernetes.io/instance-type"])
		assert.True(t, strings.HasPrefix(n.Labels["topology.kubernetes.io/zone"], "sim-east-1"))
		assert.Contains(t, n.Spec.Taints, corev1.Taint{Key: "flotilla.io/capacity", Value: "spot", Effect: corev1.TaintEffectNoSchedule})
		assert.Equal(t, "4", n.Status.Capacity.Cpu().String())
		assert.Equal(t, n.Status.Capacity.Cpu().String(), n.Status.Allocatable.Cpu().String())
	}

	// In-cluster resources deployed through the Pulumi Kubernetes provider read back.
	q, err := cs.CoreV1().ResourceQuotas("team").Get(ctx, "quota", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "10", q.Spec.Hard.Pods().String())
	cm, err := cs.CoreV1().ConfigMaps("kube-system").Get(ctx, cluster.PriorityExpanderConfigMap, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Contains(t, cm.Data["priorities"], "spot")

	// A pod that fits nowhere stays Pending with the real scheduler's message.
	huge := pod("huge", "team", corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64")})
	_, err = cs.CoreV1().Pods("team").Create(ctx, huge, metav1.CreateOptions{})
	require.NoError(t, err)
	msg := eventually(t, 60*time.Second, func() (string, bool) {
		evs, err := cs.CoreV1().Events("team").List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=huge,reason=FailedScheduling"})
		if err != nil || len(evs.Items) == 0 {
			return "", false
		}
		return evs.Items[0].Message, true
	})
	assert.Contains(t, msg, "Insufficient cpu")
	p, err := cs.CoreV1().Pods("team").Get(ctx, "huge", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, corev1.PodPending, p.Status.Phase)

	// A pod that selects the pool and tolerates spot runs on spot, then on the fallback
	// under a spot shortage, and spot Nodes return when it clears.
	worker := pod("worker", "team", corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")})
	worker.Spec.NodeSelector = map[string]string{"flotilla.io/pool": "app"}
	worker.Spec.Tolerations = []corev1.Toleration{{Key: "flotilla.io/capacity", Operator: corev1.TolerationOpEqual, Value: "spot", Effect: corev1.TaintEffectNoSchedule}}
	require.NoError(t, sim.Client.SpotShortage(ctx, "sim-east-1", ""))
	eventually(t, 60*time.Second, func() (string, bool) {
		ns, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "flotilla.io/capacity=spot"})
		return "", err == nil && len(ns.Items) == 0
	})
	_, err = cs.CoreV1().Pods("team").Create(ctx, worker, metav1.CreateOptions{})
	require.NoError(t, err)
	node := eventually(t, 90*time.Second, func() (string, bool) {
		p, err := cs.CoreV1().Pods("team").Get(ctx, "worker", metav1.GetOptions{})
		return p.Spec.NodeName, err == nil && p.Spec.NodeName != ""
	})
	n, err := cs.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "on-demand", n.Labels["flotilla.io/capacity"], "the pod runs on a fallback Node")

	_, err = sim.Client.ClearFaults(ctx, cloud.FaultFilter{})
	require.NoError(t, err)
	eventually(t, 60*time.Second, func() (string, bool) {
		ns, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "flotilla.io/capacity=spot,flotilla.io/pool=app"})
		return "", err == nil && len(ns.Items) == 2
	})

	// Destroy stops every process of the cluster's control plane and frees its ports.
	st := sim.State(t)
	require.Len(t, st.Clusters, 1)
	var planeFile string
	for id := range st.Clusters {
		planeFile = filepath.Join(sim.Home, "planes", id, "plane.json")
	}
	data, err := os.ReadFile(planeFile)
	require.NoError(t, err)
	var plane struct {
		PIDs  map[string]int `json:"pids"`
		Ports map[string]int `json:"ports"`
	}
	require.NoError(t, json.Unmarshal(data, &plane))
	require.NotEmpty(t, plane.PIDs)

	simtest.Destroy(t, stack)
	for name, pid := range plane.PIDs {
		assert.True(t, gone(pid), "%s (pid %d) is still running after destroy", name, pid)
	}
	for name, port := range plane.Ports {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if assert.NoError(t, err, "%s port %d is still taken", name, port) {
			_ = l.Close()
		}
	}
	assert.NoFileExists(t, planeFile, "the plane's data is removed")
}

func clientFor(t *testing.T, kubeconfig string) *k8s.Clientset {
	t.Helper()
	cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(kubeconfig))
	require.NoError(t, err)
	cs, err := k8s.NewForConfig(cfg)
	require.NoError(t, err)
	return cs
}

func pod(name, namespace string, requests corev1.ResourceList) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "main", Image: "registry.example/app:1",
			Resources: corev1.ResourceRequirements{Requests: requests, Limits: requests},
		}}},
	}
}

// eventually polls f until it reports done, and returns its value.
func eventually(t *testing.T, within time.Duration, f func() (string, bool)) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if v, ok := f(); ok {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", within)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// gone reports whether pid is no longer a live process (a zombie counts as gone).
func gone(pid int) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); err != nil {
			return true
		}
		if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
				return true
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return false
}

// TestDaemonKilledWithClustersComesBack kills the daemon with SIGKILL while a cluster
// with a real control plane exists: the restarted daemon has the cluster, its API is
// reachable with its data, and the stack updates with no changes.
func TestDaemonKilledWithClustersComesBack(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, simtest.WithKube())
	program := func(ctx *pulumi.Context) error {
		c, err := cluster.New(ctx, "crash-east", &cluster.Args{
			Cloud: cluster.Sim, Region: "sim-east-1", Version: "1.31",
			Tags: costtags.Tags{"env": "dev", "team": "platform", "cost-center": "cc-7"},
		})
		if err != nil {
			return err
		}
		ctx.Export("kubeconfig", c.Kubeconfig)
		return nil
	}
	res := simtest.Up(t, simtest.Stack(t, sim, "crash", program))
	cs := clientFor(t, res.Outputs["kubeconfig"].Value.(string))
	ctx := ctxT(t)
	_, err := cs.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "survivor"}, Data: map[string]string{"k": "v"},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	before := sim.State(t)

	sim.Crash(t)

	after := sim.State(t)
	require.Len(t, after.Clusters, len(before.Clusters))
	for id, c := range before.Clusters {
		require.Contains(t, after.Clusters, id)
		assert.Equal(t, c.Version, after.Clusters[id].Version)
		assert.Equal(t, c.Endpoint, after.Clusters[id].Endpoint)
	}
	got := eventually(t, 60*time.Second, func() (string, bool) {
		cm, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "survivor", metav1.GetOptions{})
		if err != nil {
			return "", false
		}
		return cm.Data["k"], true
	})
	assert.Equal(t, "v", got, "the cluster's data survived the daemon")

	again := simtest.Up(t, simtest.Stack(t, sim, "crash", program))
	changes := *again.Summary.ResourceChanges
	assert.Zero(t, changes["create"]+changes["update"]+changes["delete"]+changes["replace"], "nothing was lost: %v", changes)
}
