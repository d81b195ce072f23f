package fleetsim

import (
	"reflect"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Type tokens and the plugin version.
const (
	ClusterType  = "fleetsim:index:Cluster"
	NodePoolType = "fleetsim:index:NodePool"
	// PluginVersion is the version of pulumi-resource-fleetsim these types belong to.
	PluginVersion = "0.1.0"
)

// defaultOpts pins the plugin version, as generated SDKs do. The engine prefers a
// plugin found on PATH (an ambient plugin) and never downloads fleetsim.
func defaultOpts(opts []pulumi.ResourceOption) []pulumi.ResourceOption {
	return append([]pulumi.ResourceOption{pulumi.Version(PluginVersion)}, opts...)
}

// Provider is an explicit instance of the fleetsim provider (pulumi:providers:fleetsim).
type Provider struct {
	pulumi.ProviderResourceState
}

// ProviderArgs configure a Provider. Both are optional: by default the plugin finds
// the daemon through FLEETSIM_ADDR or FLEETSIM_HOME in the environment of the Pulumi CLI,
// and starts one on demand.
type ProviderArgs struct {
	// Addr is a running daemon's loopback address, e.g. 127.0.0.1:7070.
	Addr pulumi.StringPtrInput
	// Home is the daemon's state directory.
	Home pulumi.StringPtrInput
}

type providerArgs struct {
	Addr *string `pulumi:"addr"`
	Home *string `pulumi:"home"`
}

// ElementType returns the type the arguments resolve to.
func (ProviderArgs) ElementType() reflect.Type { return reflect.TypeOf((*providerArgs)(nil)).Elem() }

// NewProvider registers an explicit fleetsim provider.
func NewProvider(ctx *pulumi.Context, name string, args *ProviderArgs, opts ...pulumi.ResourceOption) (*Provider, error) {
	if args == nil {
		args = &ProviderArgs{}
	}
	var r Provider
	if err := ctx.RegisterResource("pulumi:providers:fleetsim", name, args, &r, defaultOpts(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}

// KubeSetting is the stack configuration key that says a stack's simulator mode.
const KubeSetting = "fleetsim:kube"

// KubeMode reports whether the stack's simulated clusters have a Kubernetes API (kube
// mode, the default) or not (lite mode), from the stack's own configuration key
// fleetsim:kube only: "off", "false", "0" or "lite" mean lite mode. The environment,
// FLEETSIM_KUBE included, plays no part, so that a rollout run from another shell
// plans the same stack. A program reads it once and says the mode explicitly
// (cluster.Args.SimLite, ClusterArgs.Kube), because a cluster's kubeconfig is only
// known after it is created.
func KubeMode(ctx *pulumi.Context) bool {
	v, ok := ctx.GetConfig(KubeSetting)
	if !ok {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "off", "false", "0", "lite":
		return false
	}
	return true
}
