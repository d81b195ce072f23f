package automation

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
	"github.com/flotilla-io/flotilla/stacks"
)

// StackValidator is the default pre-flight check of a stack: its stack file read and
// validated as the program would (unknown keys, shapes, sizes, versions, the pinned
// network plan), its environment matched against the one it is listed under, then the
// program run under the SDK's mock monitor with the file's configuration, so that the
// components' own validation (regions, zones, reserved ranges, names) runs before
// anything changes. Every refusal is an *InputError that names the file.
func StackValidator(project string, program pulumi.RunFunc) Validator {
	return func(ctx context.Context, s StackRef, file string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		cfg, err := stacks.ReadStackFile(file)
		if err != nil {
			return &InputError{Err: err}
		}
		if cfg.Environment != s.Environment {
			return &InputError{Msg: fmt.Sprintf("%s: flotilla:environment is %q, but stacks/environments.yaml lists stack %q under %q: set flotilla:environment to %q, or list the stack under %q",
				file, cfg.Environment, s.Stack, s.Environment, s.Environment, cfg.Environment)}
		}
		values, err := stacks.ReadStackValues(file)
		if err != nil {
			return &InputError{Err: err}
		}
		mocks := pulumitest.New().FakeClouds()
		withConfig := func(info *pulumi.RunInfo) { info.Config = values }
		if err := pulumi.RunErr(program, pulumi.WithMocks(project, s.Stack, mocks), withConfig); err != nil {
			return &InputError{Msg: fmt.Sprintf("%s: the program refuses this configuration:\n  %s", file, programMessage(err))}
		}
		return nil
	}
}

// programMessage is a program's error without the SDK's "1 error occurred" wrapping.
func programMessage(err error) string {
	var multi interface{ WrappedErrors() []error }
	if errors.As(err, &multi) {
		var msgs []string
		for _, e := range multi.WrappedErrors() {
			msgs = append(msgs, strings.TrimSpace(e.Error()))
		}
		return strings.Join(msgs, "\n  ")
	}
	return strings.TrimSpace(err.Error())
}

// stackNetworks is one stack's clusters and the ranges it would deploy them with.
type stackNetworks struct {
	stack, file, environment, addressSpace string
	names                                  []string
	plan                                   map[string]cluster.Network
	pinned                                 map[string]bool
}

// CheckEnvironmentNetworks checks the stacks of each environment together. A stack
// validates only its own clusters, but the stacks of one environment share its address
// space and its account, so no two of them may use overlapping ranges, or a cluster name
// that another stack of the environment also uses (both would create the same
// "<env>-<cluster>" cluster in the cloud).
//
// files maps each stack to its stack file; a stack's environment is the file's
// flotilla:environment. The ranges compared are those each stack would deploy: pinned
// in flotilla:networks, or, for a cluster without them, the ones the program would plan,
// which never see the other stacks. Call it once every file has passed StackValidator:
// a file that does not read, or whose plan fails, is reported here too. The error is an
// *InputError with one line per problem, each naming the file, the key and the stack it
// conflicts with.
func CheckEnvironmentNetworks(files map[string]string) error {
	var problems []string
	byEnv := map[string][]stackNetworks{}
	for _, stack := range slices.Sorted(maps.Keys(files)) {
		file := files[stack]
		cfg, err := stacks.ReadStackFile(file)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		plan, pinned, err := cfg.NetworkPlan()
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: flotilla:networks: the network plan fails: %v", file, err))
			continue
		}
		byEnv[cfg.Environment] = append(byEnv[cfg.Environment], stackNetworks{
			stack: stack, file: file, environment: cfg.Environment, addressSpace: cfg.AddressSpace,
			names: cfg.ClusterNames(), plan: plan, pinned: pinned,
		})
	}
	for _, env := range slices.Sorted(maps.Keys(byEnv)) {
		members := byEnv[env]
		for j := range members {
			for i := range j {
				problems = append(problems, conflicts(members[i], members[j])...)
			}
		}
	}
	if len(problems) > 0 {
		return &InputError{Msg: strings.Join(problems, "\n")}
	}
	return nil
}

// conflicts reports what stack b, of the same environment as a, shares with it: cluster
// names and overlapping ranges. Each problem is reported in b's file.
func conflicts(a, b stackNetworks) []string {
	var out []string
	other := fmt.Sprintf("stack %q (%s)", a.stack, a.file)
	for _, name := range b.names {
		if slices.Contains(a.names, name) {
			out = append(out, fmt.Sprintf("%s: flotilla:clusters: cluster %q is also a cluster of %s: both would create cluster %q of environment %q; rename one of them",
				b.file, name, other, b.environment+"-"+name, b.environment))
		}
	}
	for _, nb := range b.names {
		for _, na := range a.names {
			if nb == na {
				continue // the same cluster twice is reported above; its ranges follow
			}
			var overlaps []string
			for _, rb := range ranges(b.plan[nb]) {
				for _, ra := range ranges(a.plan[na]) {
					if !rb.prefix.Overlaps(ra.prefix) {
						continue
					}
					if !b.pinned[nb] {
						overlaps = append(overlaps, fmt.Sprintf("%s %q overlaps %s %q", rb.field, rb.prefix, describe(a, na, ra.field), ra.prefix))
						continue
					}
					msg := fmt.Sprintf("%s: %s %q overlaps %s %q of %s: the stacks of environment %q share its address space, so their ranges must be disjoint",
						b.file, describe(b, nb, rb.field), rb.prefix, describe(a, na, ra.field), ra.prefix, other, b.environment)
					if !a.pinned[na] {
						msg += fmt.Sprintf("; pin cluster %q's ranges in %s's flotilla:networks, clear of this stack's ranges", na, a.stack)
					}
					out = append(out, msg)
				}
			}
			if len(overlaps) > 0 {
				out = append(out, fmt.Sprintf("%s: cluster %q has no ranges in flotilla:networks, and those the program would plan for it overlap %s (%s): the stacks of environment %q share its address space, which each plans alone; pin cluster %q's ranges in flotilla:networks, clear of the other stacks' ranges",
					b.file, nb, other, strings.Join(overlaps, ", "), b.environment, nb))
			}
		}
	}
	return out
}

type namedRange struct {
	field  string
	prefix netip.Prefix
}

// ranges returns a network's parsed ranges; a range that does not parse is left out,
// since the stack's own validation reports it.
func ranges(n cluster.Network) []namedRange {
	var out []namedRange
	for _, f := range []struct{ field, value string }{{"vpcCIDR", n.VPCCIDR}, {"podCIDR", n.PodCIDR}, {"serviceCIDR", n.ServiceCIDR}} {
		if p, err := netip.ParsePrefix(f.value); err == nil {
			out = append(out, namedRange{f.field, p})
		}
	}
	return out
}

// describe names a cluster's range by its key when it is pinned, and as planned when
// the stack leaves it to the program.
func describe(s stackNetworks, name, field string) string {
	if s.pinned[name] {
		return fmt.Sprintf("flotilla:networks.%s.%s", name, field)
	}
	return fmt.Sprintf("the %s planned for cluster %q (not pinned in flotilla:networks)", field, name)
}
