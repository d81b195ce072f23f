package automation

import (
	"fmt"
	"strings"
)

// RemovedAPI is one API version of one kind that a Kubernetes minor stops serving.
type RemovedAPI struct {
	GroupVersion string // "policy/v1beta1"; the core group is "v1"
	Kind         string // "PodDisruptionBudget"
	RemovedIn    Minor  // the first minor that no longer serves it
	Replacement  string // the API version to migrate to, or what replaces the API
	// ReplacementSince is the first minor that serves Replacement (zero when
	// Replacement is not an API version).
	ReplacementSince Minor
}

func (r RemovedAPI) String() string { return r.GroupVersion + " " + r.Kind }

// removedAPIs are the removals of the Kubernetes deprecation guide
// (https://kubernetes.io/docs/reference/using-api/deprecation-guide/), by release. The
// guide lists beta APIs only; alpha APIs may go in any release without notice.
var removedAPIs = []RemovedAPI{
	// v1.16
	{"extensions/v1beta1", "NetworkPolicy", Minor{1, 16}, "networking.k8s.io/v1", Minor{1, 8}},
	{"extensions/v1beta1", "PodSecurityPolicy", Minor{1, 16}, "policy/v1beta1", Minor{1, 10}},
	{"extensions/v1beta1", "DaemonSet", Minor{1, 16}, "apps/v1", Minor{1, 9}},
	{"apps/v1beta2", "DaemonSet", Minor{1, 16}, "apps/v1", Minor{1, 9}},
	{"extensions/v1beta1", "Deployment", Minor{1, 16}, "apps/v1", Minor{1, 9}},
	{"apps/v1beta1", "Deployment", Minor{1, 16}, "apps/v1", Minor{1, 9}},
	{"apps/v1beta2", "Deployment", Minor{1, 16}, "apps/v1", Minor{1, 9}},
	{"apps/v1beta1", "StatefulSet", Minor{1, 16}, "apps/v1", Minor{1, 9}},
	{"apps/v1beta2", "StatefulSet", Minor{1, 16}, "apps/v1", Minor{1, 9}},
	{"extensions/v1beta1", "ReplicaSet", Minor{1, 16}, "apps/v1", Minor{1, 9}},
	{"apps/v1beta1", "ReplicaSet", Minor{1, 16}, "apps/v1", Minor{1, 9}},
	{"apps/v1beta2", "ReplicaSet", Minor{1, 16}, "apps/v1", Minor{1, 9}},

	// v1.22
	{"admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration", Minor{1, 22}, "admissionregistration.k8s.io/v1", Minor{1, 16}},
	{"admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration", Minor{1, 22}, "admissionregistration.k8s.io/v1", Minor{1, 16}},
	{"apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", Minor{1, 22}, "apiextensions.k8s.io/v1", Minor{1, 16}},
	{"apiregistration.k8s.io/v1beta1", "APIService", Minor{1, 22}, "apiregistration.k8s.io/v1", Minor{1, 10}},
	{"authentication.k8s.io/v1beta1", "TokenReview", Minor{1, 22}, "authentication.k8s.io/v1", Minor{1, 6}},
	{"authorization.k8s.io/v1beta1", "LocalSubjectAccessReview", Minor{1, 22}, "authorization.k8s.io/v1", Minor{1, 6}},
	{"authorization.k8s.io/v1beta1", "SelfSubjectAccessReview", Minor{1, 22}, "authorization.k8s.io/v1", Minor{1, 6}},
	{"authorization.k8s.io/v1beta1", "SubjectAccessReview", Minor{1, 22}, "authorization.k8s.io/v1", Minor{1, 6}},
	{"certificates.k8s.io/v1beta1", "CertificateSigningRequest", Minor{1, 22}, "certificates.k8s.io/v1", Minor{1, 19}},
	{"coordination.k8s.io/v1beta1", "Lease", Minor{1, 22}, "coordination.k8s.io/v1", Minor{1, 14}},
	{"extensions/v1beta1", "Ingress", Minor{1, 22}, "networking.k8s.io/v1", Minor{1, 19}},
	{"networking.k8s.io/v1beta1", "Ingress", Minor{1, 22}, "networking.k8s.io/v1", Minor{1, 19}},
	{"networking.k8s.io/v1beta1", "IngressClass", Minor{1, 22}, "networking.k8s.io/v1", Minor{1, 19}},
	{"rbac.authorization.k8s.io/v1beta1", "ClusterRole", Minor{1, 22}, "rbac.authorization.k8s.io/v1", Minor{1, 8}},
	{"rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding", Minor{1, 22}, "rbac.authorization.k8s.io/v1", Minor{1, 8}},
	{"rbac.authorization.k8s.io/v1beta1", "Role", Minor{1, 22}, "rbac.authorization.k8s.io/v1", Minor{1, 8}},
	{"rbac.authorization.k8s.io/v1beta1", "RoleBinding", Minor{1, 22}, "rbac.authorization.k8s.io/v1", Minor{1, 8}},
	{"scheduling.k8s.io/v1beta1", "PriorityClass", Minor{1, 22}, "scheduling.k8s.io/v1", Minor{1, 14}},
	{"storage.k8s.io/v1beta1", "CSIDriver", Minor{1, 22}, "storage.k8s.io/v1", Minor{1, 19}},
	{"storage.k8s.io/v1beta1", "CSINode", Minor{1, 22}, "storage.k8s.io/v1", Minor{1, 17}},
	{"storage.k8s.io/v1beta1", "StorageClass", Minor{1, 22}, "storage.k8s.io/v1", Minor{1, 6}},
	{"storage.k8s.io/v1beta1", "VolumeAttachment", Minor{1, 22}, "storage.k8s.io/v1", Minor{1, 13}},

	// v1.25
	{"batch/v1beta1", "CronJob", Minor{1, 25}, "batch/v1", Minor{1, 21}},
	{"discovery.k8s.io/v1beta1", "EndpointSlice", Minor{1, 25}, "discovery.k8s.io/v1", Minor{1, 21}},
	{"events.k8s.io/v1beta1", "Event", Minor{1, 25}, "events.k8s.io/v1", Minor{1, 19}},
	{"autoscaling/v2beta1", "HorizontalPodAutoscaler", Minor{1, 25}, "autoscaling/v2", Minor{1, 23}},
	{"policy/v1beta1", "PodDisruptionBudget", Minor{1, 25}, "policy/v1", Minor{1, 21}},
	{"policy/v1beta1", "PodSecurityPolicy", Minor{1, 25}, "Pod Security Admission (https://kubernetes.io/docs/concepts/security/pod-security-admission/) or a third-party admission webhook", Minor{}},
	{"node.k8s.io/v1beta1", "RuntimeClass", Minor{1, 25}, "node.k8s.io/v1", Minor{1, 20}},

	// v1.26
	{"flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", Minor{1, 26}, "flowcontrol.apiserver.k8s.io/v1beta3", Minor{1, 26}},
	{"flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration", Minor{1, 26}, "flowcontrol.apiserver.k8s.io/v1beta3", Minor{1, 26}},
	{"autoscaling/v2beta2", "HorizontalPodAutoscaler", Minor{1, 26}, "autoscaling/v2", Minor{1, 23}},

	// v1.27
	{"storage.k8s.io/v1beta1", "CSIStorageCapacity", Minor{1, 27}, "storage.k8s.io/v1", Minor{1, 24}},

	// v1.29
	{"flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema", Minor{1, 29}, "flowcontrol.apiserver.k8s.io/v1", Minor{1, 29}},
	{"flowcontrol.apiserver.k8s.io/v1beta2", "PriorityLevelConfiguration", Minor{1, 29}, "flowcontrol.apiserver.k8s.io/v1", Minor{1, 29}},

	// v1.32
	{"flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", Minor{1, 32}, "flowcontrol.apiserver.k8s.io/v1", Minor{1, 29}},
	{"flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration", Minor{1, 32}, "flowcontrol.apiserver.k8s.io/v1", Minor{1, 29}},
}

// RemovedAPIs returns the whole table of removals, oldest release first.
func RemovedAPIs() []RemovedAPI { return append([]RemovedAPI(nil), removedAPIs...) }

// RemovedBetween returns the APIs removed by the minors after from, up to and including
// to: what an upgrade from from to to stops serving. Nil when to is not after from.
func RemovedBetween(from, to Minor) []RemovedAPI {
	var out []RemovedAPI
	for _, r := range removedAPIs {
		if from.Less(r.RemovedIn) && !to.Less(r.RemovedIn) {
			out = append(out, r)
		}
	}
	return out
}

// removedAPI looks up the removal of one API version of one kind.
func removedAPI(groupVersion, kind string) (RemovedAPI, bool) {
	for _, r := range removedAPIs {
		if r.GroupVersion == groupVersion && r.Kind == kind {
			return r, true
		}
	}
	return RemovedAPI{}, false
}

// RemovedAPIFor returns the removal that applies to a Pulumi resource type of the
// kubernetes provider ("kubernetes:policy/v1beta1:PodDisruptionBudget", or its List and
// Patch types), whatever the versions; false for a type no release removes and for
// types that are not one Kubernetes kind (Helm releases, YAML files, custom resources).
func RemovedAPIFor(resourceType string) (RemovedAPI, bool) {
	groupVersion, kind, ok := parseKubernetesType(resourceType)
	if !ok {
		return RemovedAPI{}, false
	}
	if r, ok := removedAPI(groupVersion, kind); ok {
		return r, true
	}
	// The provider has a List and a Patch type beside each kind, served by the same API.
	for _, suffix := range []string{"List", "Patch"} {
		if base, found := strings.CutSuffix(kind, suffix); found && base != "" {
			if r, ok := removedAPI(groupVersion, base); ok {
				return r, true
			}
		}
	}
	return RemovedAPI{}, false
}

// parseKubernetesType splits "kubernetes:<group>/<version>:<Kind>" into the API
// version as Kubernetes spells it ("core/v1" is "v1") and the kind.
func parseKubernetesType(t string) (groupVersion, kind string, ok bool) {
	rest, found := strings.CutPrefix(t, "kubernetes:")
	if !found {
		return "", "", false
	}
	module, kind, found := strings.Cut(rest, ":")
	if !found || kind == "" || strings.Contains(kind, ":") || !strings.Contains(module, "/") {
		return "", "", false
	}
	if v, isCore := strings.CutPrefix(module, "core/"); isCore {
		module = v
	}
	return module, kind, true
}

// CheckRemovedAPIs returns a problem for every resource type (Pulumi type tokens of the
// kubernetes provider, as in a stack's state) whose API version a minor after from, up
// to and including to, stops serving: the type, the minor that removes it and what to
// use instead, as the deprecation guide says. Each type is reported once, in the order
// given; nil when none is.
func CheckRemovedAPIs(resourceTypes []string, from, to Minor) []string {
	var problems []string
	seen := map[string]bool{}
	for _, t := range resourceTypes {
		if seen[t] {
			continue
		}
		seen[t] = true
		r, ok := RemovedAPIFor(t)
		if !ok || !from.Less(r.RemovedIn) || to.Less(r.RemovedIn) {
			continue
		}
		problems = append(problems, fmt.Sprintf("%s: Kubernetes %s stops serving %s; migrate to %s", t, r.RemovedIn, r, replacementBy(r, to)))
	}
	return problems
}

// replacementBy says what r's resources should move to for a cluster that ends at to:
// the guide's replacement, followed on while to removes that as well (extensions/v1beta1
// PodSecurityPolicy went to policy/v1beta1, which 1.25 removes in turn), with the minor
// that first serves it.
func replacementBy(r RemovedAPI, to Minor) string {
	for range removedAPIs { // a chain is never longer than the table
		next, ok := removedAPI(r.Replacement, r.Kind)
		if !ok || to.Less(next.RemovedIn) {
			break
		}
		r = next
	}
	if r.ReplacementSince.IsZero() {
		return r.Replacement
	}
	return fmt.Sprintf("%s %s (served since %s)", r.Replacement, r.Kind, r.ReplacementSince)
}
