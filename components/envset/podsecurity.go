package envset

import (
	"fmt"
	"sort"
)

// PodSecurity is a Pod Security Standards level, enforced per namespace by the
// built-in Pod Security Admission controller
// (https://kubernetes.io/docs/concepts/security/pod-security-admission/).
type PodSecurity string

// The Pod Security Standards levels, from least to most restrictive.
const (
	PodSecurityPrivileged PodSecurity = "privileged"
	PodSecurityBaseline   PodSecurity = "baseline"
	PodSecurityRestricted PodSecurity = "restricted"
)

// The namespace labels Pod Security Admission reads. Without a version label it
// applies the standards of the cluster's own Kubernetes version ("latest").
const (
	LabelPodSecurityEnforce = "pod-security.kubernetes.io/enforce"
	LabelPodSecurityAudit   = "pod-security.kubernetes.io/audit"
	LabelPodSecurityWarn    = "pod-security.kubernetes.io/warn"
)

func (p PodSecurity) valid() bool {
	switch p {
	case PodSecurityPrivileged, PodSecurityBaseline, PodSecurityRestricted:
		return true
	}
	return false
}

// podSecurityFor is the level enforced on a team's namespaces in env: the team's own
// choice for the environment, else restricted in production and baseline elsewhere.
func podSecurityFor(env Environment, team Team) PodSecurity {
	if p, ok := team.PodSecurity[env.Name]; ok {
		return p
	}
	if env.production() {
		return PodSecurityRestricted
	}
	return PodSecurityBaseline
}

// podSecurityLabels enforce the level and always audit and warn at restricted, so
// that what a namespace would break under restricted shows in the audit log and in
// kubectl's warnings before anyone tightens it.
func podSecurityLabels(enforce PodSecurity) map[string]string {
	return map[string]string{
		LabelPodSecurityEnforce: string(enforce),
		LabelPodSecurityAudit:   string(PodSecurityRestricted),
		LabelPodSecurityWarn:    string(PodSecurityRestricted),
	}
}

func checkPodSecurity(who string, team Team, set Set) []error {
	var problems []error
	for _, e := range sortedKeys(team.PodSecurity) {
		if _, ok := set.Get(e); !ok {
			problems = append(problems, fmt.Errorf("%s: pod security for unknown environment %q; the set has %s", who, e, quoted(set.Names())))
		}
		if p := team.PodSecurity[e]; !p.valid() {
			problems = append(problems, fmt.Errorf("%s: pod security %q in environment %q is not one of %q, %q or %q", who, p, e, PodSecurityPrivileged, PodSecurityBaseline, PodSecurityRestricted))
		}
	}
	return problems
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
