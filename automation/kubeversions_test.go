package automation_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"

	"github.com/flotilla-io/flotilla/automation"
)

// kvNode is a Ready node of a pool, with the labels and kubelet version a real
// cluster's node carries.
func kvNode(name, kubelet string, labels map[string]string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady"}},
			NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: kubelet, ContainerRuntimeVersion: "containerd://1.7.27", OperatingSystem: "linux", Architecture: "amd64"},
		},
	}
}

func flotillaLabels(pool, capacity string) map[string]string {
	return map[string]string{"flotilla.io/pool": pool, "flotilla.io/capacity": capacity, "kubernetes.io/os": "linux"}
}

// fakeCluster is a cluster's fake clientset answering gitVersion from discovery.
func fakeCluster(gitVersion string, objs ...runtime.Object) *fake.Clientset {
	cs := fake.NewClientset(objs...)
	cs.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{Major: "1", GitVersion: gitVersion}
	return cs
}

// clientsByHost serves each cluster's fake clientset by its API server's address.
func clientsByHost(clusters map[string]kubernetes.Interface) automation.Clientsets {
	return func(cfg *rest.Config) (kubernetes.Interface, error) {
		cs, ok := clusters[cfg.Host]
		if !ok {
			return nil, fmt.Errorf("no cluster at %s", cfg.Host)
		}
		return cs, nil
	}
}

func poolEntry(name, label, capacity, fallbackFor string) map[string]any {
	m := map[string]any{"name": name, "label": label, "capacityType": capacity, "minSize": float64(1), "maxSize": float64(3)}
	if fallbackFor != "" {
		m["fallbackFor"] = fallbackFor
	}
	return m
}

// kvOutputs are the outputs of a stack with an EKS cluster "east" and a GKE cluster
// "west", each with a system pool and a spot pool with its fallback.
func kvOutputs() automation.Outputs {
	pools := func(prefix string) []any {
		return []any{
			poolEntry("system", "system", "on-demand", ""),
			poolEntry(prefix+"-general-spot", "general", "spot", ""),
			poolEntry(prefix+"-general-fallback", "general", "on-demand", prefix+"-general-spot"),
		}
	}
	return automation.Outputs{
		"kubeconfigs": {Secret: true, Value: map[string]any{
			"east": khKubeconfig("https://east.example.com"),
			"west": khKubeconfig("https://west.example.com"),
		}},
		"clusters": {Value: map[string]any{
			"east": map[string]any{"name": "prod-east", "cloud": "aws", "region": "us-east-1", "autoUpgrade": "none"},
			"west": map[string]any{"name": "prod-west", "cloud": "gcp", "region": "us-west1", "autoUpgrade": "patch"},
		}},
		"pools": {Value: map[string]any{"east": pools("east"), "west": pools("west")}},
	}
}

func TestKubeVersions(t *testing.T) {
	t.Parallel()
	east := fakeCluster("v1.31.4-eks-1b3e656",
		kvNode("ip-10-0-1-10.ec2.internal", "v1.31.2-eks-7f9249a", flotillaLabels("system", "on-demand")),
		kvNode("ip-10-0-1-11.ec2.internal", "v1.31.2-eks-7f9249a", flotillaLabels("system", "on-demand")),
		// The spot pool is being upgraded: one node already replaced, two not yet.
		kvNode("ip-10-0-2-20.ec2.internal", "v1.30.9-eks-5e0fdde", flotillaLabels("general", "spot")),
		kvNode("ip-10-0-2-21.ec2.internal", "v1.31.2-eks-7f9249a", flotillaLabels("general", "spot")),
		// A node named by its node group alone belongs to it too.
		kvNode("ip-10-0-2-22.ec2.internal", "v1.30.9-eks-5e0fdde", map[string]string{"eks.amazonaws.com/nodegroup": "east-general-spot"}),
		// A node of a pool the stack does not manage is no pool's.
		kvNode("ip-10-0-9-90.ec2.internal", "v1.28.15-eks-1552ad0", map[string]string{"eks.amazonaws.com/nodegroup": "legacy"}),
	)
	west := fakeCluster("v1.32.1-gke.1002000",
		kvNode("gke-prod-west-system-8a1b2c3d-x7k2", "v1.32.1-gke.1002000", map[string]string{"cloud.google.com/gke-nodepool": "system"}),
		kvNode("gke-prod-west-general-spot-1f2e3d4c-q9w8", "v1.31.5-gke.1023000", flotillaLabels("general", "spot")),
		kvNode("gke-prod-west-general-fallback-5a6b7c8d-z1x2", "v1.32.1-gke.1002000", flotillaLabels("general", "on-demand")),
	)
	k := automation.NewKubeVersions(clientsByHost(map[string]kubernetes.Interface{
		"https://east.example.com": east, "https://west.example.com": west,
	}))

	live, err := k.LiveVersions(context.Background(), kvStack, kvOutputs())
	require.NoError(t, err)
	assert.Equal(t, []automation.LiveCluster{
		{
			Cluster: "east", ControlPlane: "1.31", AutoUpgrade: "none",
			// The fallback has no node: its version cannot be told from the API.
			Pools: map[string]string{"system": "1.31", "east-general-spot": "1.30"},
			Busy:  "node pool east-general-spot is mid-upgrade: its nodes run different minors (2 at 1.30, 1 at 1.31)",
		},
		{
			Cluster: "west", ControlPlane: "1.32", AutoUpgrade: "patch",
			Pools: map[string]string{"system": "1.32", "west-general-spot": "1.31", "west-general-fallback": "1.32"},
		},
	}, live)
}

func TestKubeVersionsNameEveryClusterThatCannotBeRead(t *testing.T) {
	t.Parallel()
	east := fakeCluster("v1.31.4")
	east.Discovery().(*fakediscovery.FakeDiscovery).PrependReactor("get", "version", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connection refused")
	})
	west := fakeCluster("v1.32.1", kvNode("west-1", "kwok-0.8.0", flotillaLabels("system", "on-demand")))
	k := automation.NewKubeVersions(clientsByHost(map[string]kubernetes.Interface{
		"https://east.example.com": east, "https://west.example.com": west,
	}))

	_, err := k.LiveVersions(context.Background(), kvStack, kvOutputs())
	require.Error(t, err)
	assert.Equal(t, `prod/prod: cluster "east": the API server at https://east.example.com does not say its version: connection refused
prod/prod: cluster "west": node west-1 reports kubelet version "kwok-0.8.0": not a Kubernetes version; the pools' versions cannot be told`, err.Error())

	bad := fakeCluster("v1.31.4")
	bad.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: "unknown"}
	k = automation.NewKubeVersions(clientsByHost(map[string]kubernetes.Interface{
		"https://east.example.com": bad, "https://west.example.com": fakeCluster("v1.32.1"),
	}))
	_, err = k.LiveVersions(context.Background(), kvStack, kvOutputs())
	assert.ErrorContains(t, err, `cluster "east": the API server at https://east.example.com reports version "unknown"`)

	out := kvOutputs()
	delete(out, "kubeconfigs")
	_, err = k.LiveVersions(context.Background(), kvStack, out)
	assert.ErrorContains(t, err, `prod/prod: the stack has no "kubeconfigs" output`)
	out = kvOutputs()
	delete(out, "pools")
	_, err = k.LiveVersions(context.Background(), kvStack, out)
	assert.ErrorContains(t, err, `prod/prod: the stack has no "pools" output`)
}

var kvStack = automation.StackRef{Environment: "prod", Stack: "prod"}
