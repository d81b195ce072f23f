package cluster

import (
	"fmt"
	"strconv"
	"strings"
)

// AutoUpgradeNone is Cluster.AutoUpgrade when nothing but Flotilla upgrades the
// cluster's minor version: Flotilla's rollout owns upgrades on every cloud.
const AutoUpgradeNone = "none"

// nodeSkew is how many minors a cloud lets a node pool lag its control plane. The
// Kubernetes version-skew policy allows a kubelet 3 minors older than the API server
// since 1.28 (https://kubernetes.io/releases/version-skew-policy/#kubelet); some clouds
// allow fewer.
var nodeSkew = map[Cloud]int{
	// https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions-extended.html
	// (Kubernetes 1.28): the skew between nodes and the control plane went from n-2 to n-3.
	AWS: 3,
	// https://cloud.google.com/kubernetes-engine/versioning: "Nodes and node pool
	// versions can be up to two minor versions older than the control plane".
	GCP: 2,
	// https://learn.microsoft.com/rest/api/aks/agent-pools/create-or-update
	// (orchestratorVersion): "The node pool minor version must be within two minor
	// versions of the control plane version."
	Azure: 2,
	// The simulator follows the Kubernetes policy (internal/fleetsim/cloud.MaxPoolSkew).
	Sim: 3,
}

// MaxNodeSkew returns how many minors a node pool on cloud may be older than its
// control plane; a node pool is never newer. An unknown cloud gets the Kubernetes
// version-skew policy's 3.
func MaxNodeSkew(cloud Cloud) int {
	if n, ok := nodeSkew[cloud]; ok {
		return n
	}
	return 3
}

// NodeSkewError says that nodes at Nodes cannot run under a control plane at
// ControlPlane on Cloud: they would be newer (Behind < 0), or more than Max minors older.
type NodeSkewError struct {
	Cloud               Cloud
	ControlPlane, Nodes string
	// Behind is how many minors the nodes would lag the control plane; Max is what
	// Cloud allows (MaxNodeSkew).
	Behind, Max int
}

func (e *NodeSkewError) Error() string {
	if e.Behind < 0 {
		return fmt.Sprintf("nodes at %s would be newer than their control plane at %s: a node never runs a newer minor than its control plane; upgrade the control plane first",
			e.Nodes, e.ControlPlane)
	}
	return fmt.Sprintf("nodes at %s would be %d minors older than their control plane at %s, and %s allows %d: upgrade the node pools first",
		e.Nodes, e.Behind, e.ControlPlane, e.Cloud, e.Max)
}

// CheckNodeVersion returns a *NodeSkewError when nodes at nodes cannot run under a
// control plane at controlPlane on cloud: never newer, and at most MaxNodeSkew(cloud)
// minors older (https://kubernetes.io/releases/version-skew-policy/#kubelet). Versions
// that are not MAJOR.MINOR minors are left to the checks of their own form.
func CheckNodeVersion(cloud Cloud, controlPlane, nodes string) error {
	behind, ok := minorsBehind(controlPlane, nodes)
	if !ok {
		return nil
	}
	if max := MaxNodeSkew(cloud); behind < 0 || behind > max {
		return &NodeSkewError{Cloud: cloud, ControlPlane: controlPlane, Nodes: nodes, Behind: behind, Max: max}
	}
	return nil
}

// minorsBehind returns how many minors older than cp the version v is (negative when
// newer); ok is false unless both are MAJOR.MINOR versions. A major counts as 100 minors.
func minorsBehind(cp, v string) (int, bool) {
	parse := func(s string) (int, bool) {
		major, minor, ok := strings.Cut(s, ".")
		if !ok {
			return 0, false
		}
		ma, err1 := strconv.Atoi(major)
		mi, err2 := strconv.Atoi(minor)
		return ma*100 + mi, err1 == nil && err2 == nil
	}
	c, ok1 := parse(cp)
	n, ok2 := parse(v)
	return c - n, ok1 && ok2
}

// autoUpgrade describes a cloud setting that upgrades the cluster's minor on its own,
// or AutoUpgradeNone when the setting leaves upgrades to Flotilla.
func autoUpgrade(setting, value string, flotillaOwns ...string) string {
	for _, v := range append(flotillaOwns, "") {
		if strings.EqualFold(value, v) {
			return AutoUpgradeNone
		}
	}
	return setting + " " + value
}
