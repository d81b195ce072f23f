package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"

	"github.com/flotilla-io/flotilla/automation"
)

// fakeAPIs are the tests' Kubernetes API servers, by address.
var fakeAPIs sync.Map

func init() {
	diagnoseWith = automation.NewKubeHealth(automation.WithClientsets(func(cfg *rest.Config) (kubernetes.Interface, error) {
		v, ok := fakeAPIs.Load(cfg.Host)
		if !ok {
			return nil, errors.New("connection refused")
		}
		return v.(*fake.Clientset), nil
	}))
}

// diagnoseKubeconfig is a cluster's kubeconfig, with a token that must never be printed.
func diagnoseKubeconfig(server string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: %s}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\nusers:\n- name: u\n  user: {token: s3cr3t-t0ken}\n", server)
}

// withCluster deploys a stack whose one cluster, east-1, is served by a fake API holding objs.
func (f *fixture) withCluster(t *testing.T, stack string, objs ...runtime.Object) {
	t.Helper()
	host := "https://" + strings.ReplaceAll(t.Name(), "/", "-") + "-" + stack + ".example:6443"
	fakeAPIs.Store(host, fake.NewClientset(objs...))
	f.fake.Deployed(stack, time.Time{}, automation.Outputs{"kubeconfigs": {Secret: true, Value: map[string]any{"east-1": diagnoseKubeconfig(host)}}})
}

func diagNode(name string) *corev1.Node {
	alloc := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("8Gi")}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"flotilla.io/pool": "system", "flotilla.io/capacity": "on-demand"}},
		Status: corev1.NodeStatus{Allocatable: alloc, Capacity: alloc, Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady"},
		}},
	}
}

// hugePod is Pending: it asks for more CPU than the node has, as the scheduler says.
func hugePod(age time.Duration) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "payments", Name: "api-huge", UID: "u1", CreationTimestamp: metav1.NewTime(time.Now().Add(-age))},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/api:1", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("16")},
		}}}},
		Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
			Message: "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
		}}},
	}
}

func TestDiagnoseCommand(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.withCluster(t, "dev", diagNode("sys-0"), hugePod(10*time.Minute))
	f.withCluster(t, "staging", diagNode("sys-1"))

	// Problems found: exit 1, each with its cause, why, what to do and the evidence.
	inv := f.run(t, "diagnose")
	require.Equal(t, exitFailed, inv.code, "stdout:\n%s\nstderr:\n%s", inv.stdout, inv.stderr)
	for _, want := range []string{
		"==> dev/dev east-1: 1 problem(s) (1 pod(s), 1 node(s) read)",
		"  pod payments/api-huge Pending [PodTooBig]",
		"    why:  0/1 nodes fit it: 1 lack free cpu; it requests cpu 16, more than any node it can run on holds (the largest, sys-0, has 2 allocatable)",
		"    next: lower its requests to what a node holds, or add a node pool with a larger instance type",
		"      - condition Unschedulable: 0/1 nodes are available: 1 Insufficient cpu.",
		"==> staging/staging east-1: no problem found (0 pod(s), 1 node(s) read)",
		"==> prod/prod-canary: not deployed yet: no cluster to diagnose",
	} {
		assert.Contains(t, inv.stdout, want)
	}
	assert.Contains(t, inv.stderr, "error: 1 problem(s) found; each says what to do next")
	assert.NotContains(t, inv.stdout+inv.stderr, "s3cr3t", "no credential is printed")

	// A cluster whose API does not answer: exit 1 even without findings.
	f.fake.Deployed("prod-east", time.Time{}, automation.Outputs{"kubeconfigs": {Secret: true, Value: map[string]any{"east-1": diagnoseKubeconfig("https://gone.example:6443")}}})
	inv = f.run(t, "diagnose", "--stack", "prod-east")
	require.Equal(t, exitFailed, inv.code, inv.stdout+inv.stderr)
	assert.Contains(t, inv.stdout, "==> prod/prod-east east-1: could not be read: no client for the API server at https://gone.example:6443: connection refused")
	assert.Contains(t, inv.stderr, "prod/prod-east/east-1 could not be read")

	// One stack, every finding clean: exit 0.
	inv = f.run(t, "diagnose", "--stack", "staging")
	require.Equal(t, exitOK, inv.code, inv.stdout+inv.stderr)
	assert.Contains(t, inv.stdout, "==> staging/staging east-1: no problem found")
	assert.NotContains(t, inv.stdout, "dev/dev")

	// A namespace with nothing wrong in it.
	inv = f.run(t, "diagnose", "--env", "dev", "--namespace", "search")
	require.Equal(t, exitOK, inv.code, inv.stdout+inv.stderr)

	// JSON: the structured findings, and the exit code.
	inv = f.run(t, "diagnose", "--env", "dev", "--output", "json")
	require.Equal(t, exitFailed, inv.code, inv.stdout+inv.stderr)
	lines := strings.Split(strings.TrimSpace(inv.stdout), "\n")
	var res struct {
		Type      string `json:"type"`
		Command   string `json:"command"`
		ExitCode  int    `json:"exitCode"`
		Diagnosis struct {
			Stacks []struct {
				Stack    automation.StackRef `json:"stack"`
				Clusters []struct {
					Name     string `json:"name"`
					Findings []struct {
						Kind, Namespace, Pod, Cause, Summary, Next string
						Scheduling                                 struct {
							Nodes   int `json:"nodes"`
							Reasons []struct {
								Code, Resource string
								Count          int
							} `json:"reasons"`
						} `json:"scheduling"`
					} `json:"findings"`
				} `json:"clusters"`
			} `json:"stacks"`
		} `json:"diagnosis"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &res), inv.stdout)
	assert.Equal(t, "result", res.Type)
	assert.Equal(t, "diagnose", res.Command)
	assert.Equal(t, exitFailed, res.ExitCode)
	require.Len(t, res.Diagnosis.Stacks, 1)
	require.Len(t, res.Diagnosis.Stacks[0].Clusters, 1)
	require.Len(t, res.Diagnosis.Stacks[0].Clusters[0].Findings, 1)
	fd := res.Diagnosis.Stacks[0].Clusters[0].Findings[0]
	assert.Equal(t, "pending", fd.Kind)
	assert.Equal(t, "PodTooBig", fd.Cause)
	assert.Equal(t, 1, fd.Scheduling.Nodes)
	require.Len(t, fd.Scheduling.Reasons, 1)
	assert.Equal(t, "InsufficientResource", fd.Scheduling.Reasons[0].Code)
	assert.Equal(t, "cpu", fd.Scheduling.Reasons[0].Resource)
	assert.NotContains(t, inv.stdout, "s3cr3t")
}

func TestDiagnoseCommandSkipsYoungPods(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.withCluster(t, "dev", diagNode("sys-0"), hugePod(20*time.Second))

	inv := f.run(t, "diagnose", "--stack", "dev")
	require.Equal(t, exitOK, inv.code, inv.stdout+inv.stderr)
	assert.Contains(t, inv.stdout, "no problem found (1 pod(s), 1 node(s) read; 1 pod(s) younger than 1m0s not reported)")

	inv = f.run(t, "diagnose", "--stack", "dev", "--min-age", "0")
	require.Equal(t, exitFailed, inv.code, inv.stdout+inv.stderr)
	assert.Contains(t, inv.stdout, "pod payments/api-huge Pending [PodTooBig]")

	inv = f.run(t, "diagnose", "--stack", "dev", "--min-age", "10s")
	require.Equal(t, exitFailed, inv.code, inv.stdout+inv.stderr)
}

func TestDiagnoseCommandRefusesBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"diagnose", "--env", "qa"}, `unknown environment "qa"`},
		{[]string{"diagnose", "--stack", "nope"}, `unknown stack "nope"`},
		{[]string{"diagnose", "--cluster", "east-9"}, `unknown cluster "east-9"`},
		{[]string{"diagnose", "--min-age", "-1m"}, "--min-age -1m0s: use a duration of 0 or more"},
		{[]string{"diagnose", "--output", "yaml"}, `--output "yaml": use text or json`},
		{[]string{"diagnose", "extra"}, "unknown command"},
	} {
		inv := f.run(t, tt.args...)
		assert.Equal(t, exitUsage, inv.code, "%v: %s%s", tt.args, inv.stdout, inv.stderr)
		assert.Contains(t, inv.stdout+inv.stderr, tt.want, tt.args)
	}
	assert.Empty(t, f.fake.CallList(), "nothing was read")
}
