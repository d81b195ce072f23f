package automation

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// cloudPoolLabels are the labels each cloud puts on a node to name its node pool. A
// node that carries one of them, with the name of a pool of the stack, belongs to that
// pool whatever its Flotilla labels say.
var cloudPoolLabels = []string{
	// https://docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html
	"eks.amazonaws.com/nodegroup",
	// https://cloud.google.com/kubernetes-engine/docs/concepts/node-pools
	"cloud.google.com/gke-nodepool",
	// https://learn.microsoft.com/azure/aks/use-labels (reserved system labels)
	"kubernetes.azure.com/agentpool",
	"agentpool",
	// the simulator's (internal/fleetsim/simapi.LabelNodePool)
	"fleetsim.flotilla.io/nodepool",
}

// KubeVersions is the VersionSource of clusters reached through their Kubernetes API,
// with the kubeconfigs of the stack's "kubeconfigs" output: the control plane's version
// is the API server's, from discovery; a node pool's is the oldest kubelet among its
// nodes, since a pool that is being upgraded still runs its old version until every
// node has been replaced.
//
// A node belongs to the pool of the stack's "pools" output whose name its cloud's
// node-pool label carries, else to the one with its flotilla.io/pool and
// flotilla.io/capacity labels (a spot pool and its on-demand fallback share the first).
// A pool with no node has no version the API can tell and is left out of Pools. A pool
// whose nodes run different minors is mid-upgrade: Busy says so.
//
// On the simulator, whose API servers all run one binary whatever version the
// simulated cloud reports, use simcloud.Versions instead.
//
//	v := automation.NewKubeVersions(nil)
//	d, err := automation.New(automation.WithVersionSource(v))
type KubeVersions struct {
	clients Clientsets
}

// NewKubeVersions returns the version source that reads each cluster's Kubernetes API.
// clients builds the client of a cluster; nil means kubernetes.NewForConfig.
func NewKubeVersions(clients Clientsets) *KubeVersions {
	if clients == nil {
		clients = func(cfg *rest.Config) (kubernetes.Interface, error) { return kubernetes.NewForConfig(cfg) }
	}
	return &KubeVersions{clients: clients}
}

var _ VersionSource = (*KubeVersions)(nil)

// LiveVersions reads every cluster of the stack's "kubeconfigs" output. AutoUpgrade is
// what the stack's "clusters" output says the cloud is set to (the Kubernetes API does
// not know). Every cluster that cannot be read is named in the error.
func (k *KubeVersions) LiveVersions(ctx context.Context, s StackRef, outputs Outputs) ([]LiveCluster, error) {
	kubeconfigs, err := Kubeconfigs(outputs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	pools, err := OutputPools().Pools(ctx, s, outputs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	auto := autoUpgrades(outputs)
	var out []LiveCluster
	var errs []error
	for _, name := range sortedKeys(kubeconfigs) {
		lc, err := k.readCluster(ctx, name, kubeconfigs[name], pools[name])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: cluster %q: %w", s, name, err))
			continue
		}
		lc.AutoUpgrade = auto[name]
		out = append(out, lc)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// autoUpgrades reads each cluster's autoUpgrade from the stack's "clusters" output.
func autoUpgrades(outputs Outputs) map[string]string {
	out := map[string]string{}
	o, ok := outputs["clusters"]
	if !ok {
		return out
	}
	all, _ := o.Value.(map[string]any)
	for name, e := range all {
		m, _ := e.(map[string]any)
		out[name] = str(m["autoUpgrade"])
	}
	return out
}

// readCluster reads one cluster's API server version and its nodes' kubelet versions.
func (k *KubeVersions) readCluster(ctx context.Context, name, kubeconfig string, pools []PoolSpec) (LiveCluster, error) {
	lc := LiveCluster{Cluster: name, Pools: map[string]string{}}
	cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(kubeconfig))
	if err != nil {
		return lc, fmt.Errorf("its kubeconfig does not load: %w", err)
	}
	cfg.Timeout = DefaultKubeCallTimeout
	cs, err := k.clients(cfg)
	if err != nil {
		return lc, fmt.Errorf("no client for the API server at %s: %w", cfg.Host, err)
	}
	info, err := callWithTimeout(ctx, DefaultKubeCallTimeout, func(ctx context.Context) (*version.Info, error) {
		return discovery.ToServerVersionInterfaceWithContext(cs.Discovery()).ServerVersionWithContext(ctx)
	})
	if err != nil {
		return lc, fmt.Errorf("the API server at %s does not say its version: %w", cfg.Host, err)
	}
	cp, err := ParseMinor(info.GitVersion)
	if err != nil {
		return lc, fmt.Errorf("the API server at %s reports version %q: %w", cfg.Host, info.GitVersion, err)
	}
	lc.ControlPlane = cp.String()
	nodes, err := callWithTimeout(ctx, DefaultKubeCallTimeout, func(ctx context.Context) (*corev1.NodeList, error) {
		return cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	})
	if err != nil {
		return lc, fmt.Errorf("the API server at %s does not list nodes: %w", cfg.Host, err)
	}
	byPool, err := kubeletMinors(pools, nodes.Items)
	if err != nil {
		return lc, err
	}
	var busy []string
	for _, pool := range sortedKeys(byPool) {
		counts := byPool[pool]
		minors := make([]Minor, 0, len(counts))
		for m := range counts {
			minors = append(minors, m)
		}
		sort.Slice(minors, func(i, j int) bool { return minors[i].Less(minors[j]) })
		lc.Pools[pool] = minors[0].String()
		if len(minors) > 1 {
			parts := make([]string, len(minors))
			for i, m := range minors {
				parts[i] = fmt.Sprintf("%d at %s", counts[m], m)
			}
			busy = append(busy, fmt.Sprintf("node pool %s is mid-upgrade: its nodes run different minors (%s)", pool, strings.Join(parts, ", ")))
		}
	}
	lc.Busy = strings.Join(busy, "; ")
	return lc, nil
}

// kubeletMinors counts, for each pool, its nodes by the minor of their kubelet. Nodes of
// no pool of the stack are left out.
func kubeletMinors(pools []PoolSpec, nodes []corev1.Node) (map[string]map[Minor]int, error) {
	byName := map[string]bool{}
	type key struct{ label, capacity string }
	byLabels := map[key]string{}
	for _, p := range pools {
		byName[p.Name] = true
		k := key{p.Label, p.Capacity}
		if _, taken := byLabels[k]; !taken {
			byLabels[k] = p.Name
		}
	}
	out := map[string]map[Minor]int{}
	var bad []string
	for i := range nodes {
		n := &nodes[i]
		pool := ""
		for _, l := range cloudPoolLabels {
			if v := n.Labels[l]; byName[v] {
				pool = v
				break
			}
		}
		if pool == "" {
			pool = byLabels[key{n.Labels[labelPool], n.Labels[labelCapacity]}]
		}
		if pool == "" {
			continue
		}
		kv := n.Status.NodeInfo.KubeletVersion
		m, err := ParseMinor(kv)
		if err != nil {
			bad = append(bad, fmt.Sprintf("node %s reports kubelet version %q", n.Name, kv))
			continue
		}
		if out[pool] == nil {
			out[pool] = map[Minor]int{}
		}
		out[pool][m]++
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, fmt.Errorf("%s: not a Kubernetes version; the pools' versions cannot be told", strings.Join(firstN(bad, 3), ", "))
	}
	return out, nil
}
