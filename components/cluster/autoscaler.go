package cluster

import (
	"fmt"

	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"gopkg.in/yaml.v3"
)

// PriorityExpanderConfigMap is the ConfigMap in kube-system that the cluster-autoscaler's
// priority expander reads. The cluster owns it: one per cluster, matching every spot
// pool's groups by the GroupName convention, so pools come and go without touching it.
const PriorityExpanderConfigMap = "cluster-autoscaler-priority-expander"

// newPriorityExpander registers the priority-expander ConfigMap for a cluster on s.cloud.
func newPriorityExpander(ctx *pulumi.Context, c *Cluster, s *spec, opts ...pulumi.ResourceOption) (*corev1.ConfigMap, error) {
	doc, err := yaml.Marshal(priorities(s.cloud))
	if err != nil {
		return nil, fmt.Errorf("priority expander: %w", err)
	}
	cm, err := corev1.NewConfigMap(ctx, s.name+"-priority-expander", &corev1.ConfigMapArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(PriorityExpanderConfigMap),
			Namespace: pulumi.String("kube-system"),
			Labels:    pulumi.ToStringMap(s.kubeLabels),
		},
		Data: pulumi.StringMap{"priorities": pulumi.String(string(doc))},
	}, append([]pulumi.ResourceOption{pulumi.Parent(c), pulumi.Provider(c.KubeProvider)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("priority expander: %w", err)
	}
	return cm, nil
}
