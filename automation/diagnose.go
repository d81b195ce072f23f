package automation

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/flotilla-io/flotilla/automation/diagnose"
	"github.com/flotilla-io/flotilla/stacks"
)

// DiagnoseRequest says which clusters to diagnose, and which of their pods.
type DiagnoseRequest struct {
	// Environment, Stack and Cluster narrow the clusters; empty means all. Cluster is a
	// cluster's name in its stack file (its key in the stack's outputs).
	Environment string
	Stack       string
	Cluster     string
	// Namespace narrows the pods; empty means every namespace.
	Namespace string
	// MinAge: pods younger than it are not reported. Zero means diagnose.DefaultMinAge;
	// a negative value reports every pod.
	MinAge time.Duration
	// Diagnoser reads the clusters. Nil means the Deployer's health checker when it is
	// a StackDiagnoser (the simulator's is, and knows which clusters have no Kubernetes
	// API), else each cluster's Kubernetes API through client-go (NewKubeHealth).
	Diagnoser StackDiagnoser
}

// DiagnoseScope is what a StackDiagnoser looks at in a stack.
type DiagnoseScope struct {
	// Cluster is the one cluster to diagnose; empty means every cluster of the stack.
	Cluster   string
	Namespace string
	MinAge    time.Duration
}

// StackDiagnoser diagnoses the clusters of a stack, found through its outputs. A cluster
// it cannot read is reported in its ClusterDiagnosis; the error is for a stack whose
// outputs name no cluster at all.
type StackDiagnoser interface {
	DiagnoseStack(ctx context.Context, s StackRef, outputs Outputs, scope DiagnoseScope) ([]ClusterDiagnosis, error)
}

// DiagnoseReport is a diagnosis of the selected clusters.
type DiagnoseReport struct {
	Checked time.Time        `json:"checked"`
	Stacks  []StackDiagnosis `json:"stacks"`
}

// StackDiagnosis is one stack's clusters.
type StackDiagnosis struct {
	Stack    StackRef           `json:"stack"`
	Clusters []ClusterDiagnosis `json:"clusters"`
	// NotDeployed says the stack was never deployed: it has no clusters yet.
	NotDeployed bool `json:"notDeployed,omitempty"`
	// Error says why the stack's clusters could not be found (its outputs unreadable,
	// or naming no cluster).
	Error string `json:"error,omitempty"`
}

// ClusterDiagnosis is one cluster's diagnosis: its findings, or why it has none.
type ClusterDiagnosis struct {
	Name string `json:"name"`
	// NotDiagnosable says why the cluster cannot be diagnosed, e.g. it has no Kubernetes
	// API (a simulated cluster in lite mode). It is not an error.
	NotDiagnosable string `json:"notDiagnosable,omitempty"`
	// Error says why its API could not be read.
	Error string `json:"error,omitempty"`
	diagnose.Report
}

// MarshalJSON keeps the findings list present (empty, not null) for a clean cluster.
func (c ClusterDiagnosis) MarshalJSON() ([]byte, error) {
	type plain ClusterDiagnosis
	if c.Findings == nil && c.NotDiagnosable == "" && c.Error == "" {
		c.Findings = []diagnose.Finding{}
	}
	return json.Marshal(plain(c))
}

// Findings counts the findings of every cluster.
func (r *DiagnoseReport) Findings() int {
	n := 0
	for _, s := range r.Stacks {
		for _, c := range s.Clusters {
			n += len(c.Findings)
		}
	}
	return n
}

// Unread lists the stacks and clusters that could not be read ("env/stack" or
// "env/stack/cluster"), which a clean report cannot vouch for.
func (r *DiagnoseReport) Unread() []string {
	var out []string
	for _, s := range r.Stacks {
		if s.Error != "" {
			out = append(out, s.Stack.String())
		}
		for _, c := range s.Clusters {
			if c.Error != "" {
				out = append(out, s.Stack.String()+"/"+c.Name)
			}
		}
	}
	return out
}

// diagnoseConcurrency bounds how many stacks are read at once.
const diagnoseConcurrency = 4

// Diagnose explains why pods are Pending and Running pods are not Ready on the selected
// clusters, and which nodes are NotReady or under pressure, through each cluster's
// Kubernetes API with the kubeconfig of its stack's outputs. It changes nothing and
// takes no lock. An unknown environment, stack or cluster is refused with an
// *InputError before anything is read. A cluster without a Kubernetes API is reported
// as not diagnosable; one whose API does not answer, with its error.
func (d *Deployer) Diagnose(ctx context.Context, req DiagnoseRequest) (*DiagnoseReport, error) {
	refs, err := d.diagnoseSelection(req)
	if err != nil {
		return nil, err
	}
	dg := req.Diagnoser
	if dg == nil {
		if h, ok := d.o.health.(StackDiagnoser); ok {
			dg = h
		} else {
			dg = NewKubeHealth()
		}
	}
	scope := DiagnoseScope{Cluster: req.Cluster, Namespace: req.Namespace, MinAge: req.MinAge}
	rep := &DiagnoseReport{Checked: d.o.now(), Stacks: make([]StackDiagnosis, len(refs))}
	sem := make(chan struct{}, diagnoseConcurrency)
	var wg sync.WaitGroup
	for i, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			rep.Stacks[i] = d.diagnoseStack(ctx, dg, ref, scope)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	return rep, nil
}

func (d *Deployer) diagnoseStack(ctx context.Context, dg StackDiagnoser, ref StackRef, scope DiagnoseScope) StackDiagnosis {
	sd := StackDiagnosis{Stack: ref}
	if states, ok := d.o.ops.(StackStates); ok {
		if st, err := states.State(ctx, ref); err == nil && !st.Exists {
			sd.NotDeployed = true
			return sd
		}
	}
	outputs, err := d.o.ops.Outputs(ctx, ref)
	if err != nil {
		sd.Error = "reading its outputs: " + readable(err)
		return sd
	}
	clusters, err := dg.DiagnoseStack(ctx, ref, outputs, scope)
	if err != nil {
		sd.Error = err.Error()
	}
	sort.Slice(clusters, func(i, j int) bool { return clusters[i].Name < clusters[j].Name })
	sd.Clusters = clusters
	return sd
}

// diagnoseSelection checks the request against the environments, the stacks and their
// files, and returns the stacks to read.
func (d *Deployer) diagnoseSelection(req DiagnoseRequest) ([]StackRef, error) {
	set := *d.o.set
	sel := Selection{}
	if req.Environment != "" {
		sel.Environments = []string{req.Environment}
	}
	if req.Stack != "" {
		sel.Stacks = []string{req.Stack}
	}
	if req.Environment != "" && req.Stack != "" {
		if env, ok := set.Get(req.Environment); ok && !slices.Contains(env.Stacks(), req.Stack) {
			return nil, &InputError{Msg: fmt.Sprintf("stack %q is not in environment %q: its stacks are %s", req.Stack, req.Environment, strings.Join(env.Stacks(), ", "))}
		}
	}
	plan, err := BuildPlan(set, sel)
	if err != nil {
		return nil, err
	}
	refs := plan.Stacks()
	if req.Namespace != "" {
		if errs := validation.IsDNS1123Label(req.Namespace); len(errs) > 0 {
			return nil, &InputError{Msg: fmt.Sprintf("namespace %q is not a valid namespace name: %s", req.Namespace, strings.Join(errs, "; "))}
		}
	}
	if req.Cluster == "" {
		return refs, nil
	}
	var known []string
	var keep []StackRef
	for _, ref := range refs {
		names, err := d.stackClusters(ref.Stack)
		if err != nil {
			return nil, &InputError{Msg: "reading " + d.StackFile(ref.Stack), Err: err}
		}
		if slices.Contains(names, req.Cluster) {
			keep = append(keep, ref)
		}
		known = append(known, names...)
	}
	if len(keep) == 0 {
		sort.Strings(known)
		where := "the fleet"
		if req.Stack != "" {
			where = "stack " + req.Stack
		} else if req.Environment != "" {
			where = "environment " + req.Environment
		}
		return nil, &InputError{Msg: fmt.Sprintf("unknown cluster %q: the clusters of %s are %s", req.Cluster, where, strings.Join(slices.Compact(known), ", "))}
	}
	return keep, nil
}

// stackClusters are the cluster names a stack file declares under flotilla:clusters.
func (d *Deployer) stackClusters(stack string) ([]string, error) {
	values, err := stacks.ReadStackValues(d.StackFile(stack))
	if err != nil {
		return nil, err
	}
	raw, ok := values[stacks.Namespace+":clusters"]
	if !ok {
		return nil, nil
	}
	var clusters []stacks.ClusterConfig
	if err := json.Unmarshal([]byte(raw), &clusters); err != nil {
		return nil, fmt.Errorf("%s:clusters: %w", stacks.Namespace, err)
	}
	names := make([]string, 0, len(clusters))
	for _, c := range clusters {
		name := c.Name
		if name == "" {
			name = c.Cloud + "-" + c.Region
		}
		names = append(names, name)
	}
	return names, nil
}
