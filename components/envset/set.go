package envset

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/components/cluster"
)

// Access is what a team may do in its namespaces of one environment.
type Access string

// The access levels, from least to most privileged. See the package doc for the exact rules.
const (
	AccessView  Access = "view"
	AccessEdit  Access = "edit"
	AccessAdmin Access = "admin"
)

// rank orders the access levels; an unknown level ranks 0.
func (a Access) rank() int {
	switch a {
	case AccessView:
		return 1
	case AccessEdit:
		return 2
	case AccessAdmin:
		return 3
	}
	return 0
}

func (a Access) valid() bool { return a.rank() > 0 }

// Team owns namespaces and has an access level per environment.
type Team struct {
	Name       string
	Namespaces []string
	// Access is per environment name, e.g. {"dev": "edit", "prod": "view"}. An
	// environment missing from the map grants the team nothing there.
	Access map[string]Access
	// PodSecurity is the Pod Security Standards level enforced on the team's namespaces,
	// per environment name. An environment missing from the map enforces restricted in
	// production and baseline elsewhere; audit and warn are restricted everywhere.
	PodSecurity map[string]PodSecurity
	// Identity is who holds the team's access on each cloud; see TeamIdentity.
	Identity TeamIdentity
}

// Environment is one stage of the promotion path and the gates around it.
type Environment struct {
	Name             string
	RequiresApproval bool          // promotion into it needs an explicit approval
	Protected        bool          // deletion protection; replacements need an explicit flag
	Soak             time.Duration // wait after a healthy rollout before the next environment starts
	MaxConcurrency   int           // stacks rolled out at once within this environment
	// Account is the cloud account the environment lives in: an AWS account id, a GCP
	// project id or an Azure subscription id. It is the account of every cloud the
	// environment uses unless Accounts names that cloud's.
	Account string
	// Accounts is the account per cloud, for an environment on more than one cloud:
	// {aws: "123456789012", gcp: "acme-prod", azure: "<subscription id>"}.
	Accounts map[cluster.Cloud]string
	// MaxFailures is the failure budget: how many of the environment's stacks may fail
	// and be set aside (for a later retry) while the rollout goes on. Zero stops the
	// rollout at the first failure.
	MaxFailures int
	// MaintenanceWindow is when upgrade steps may start in the environment; nil means
	// any time.
	MaintenanceWindow *Window
	// Waves are the environment's stacks in the order they roll out: every stack of a
	// wave before any of the next, up to MaxConcurrency at once within a wave. Empty
	// means one wave of one stack named after the environment.
	Waves [][]string
}

// AccountFor returns the account the environment's clusters on cloud live in: its
// Accounts entry, or Account. Empty: none is set.
func (e Environment) AccountFor(cloud cluster.Cloud) string {
	if a, ok := e.Accounts[cloud]; ok {
		return a
	}
	return e.Account
}

// accounts lists the environment's accounts, one per cloud it names and Account.
func (e Environment) accounts() []string {
	var out []string
	if e.Account != "" {
		out = append(out, e.Account)
	}
	for _, c := range []cluster.Cloud{cluster.AWS, cluster.GCP, cluster.Azure, cluster.Sim} {
		if a := e.Accounts[c]; a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// StackWaves returns the environment's waves of stacks: Waves, or one wave of one
// stack named after the environment when it lists none.
func (e Environment) StackWaves() [][]string {
	if len(e.Waves) == 0 {
		return [][]string{{e.Name}}
	}
	return e.Waves
}

// Stacks returns every stack of the environment, wave by wave.
func (e Environment) Stacks() []string {
	var out []string
	for _, w := range e.StackWaves() {
		out = append(out, w...)
	}
	return out
}

// production reports whether the environment serves production: it is protected or
// named like it. Production must not share a cloud account with anything else.
func (e Environment) production() bool {
	return e.Protected || e.Name == "prod" || e.Name == "production"
}

// Set is the environments in promotion order.
type Set struct{ Environments []Environment }

// Default returns dev -> staging -> prod: dev rolls out freely, staging soaks for ten
// minutes, and prod needs an approval, is protected, soaks for half an hour and rolls
// out one stack at a time. Each lives in an account of its own.
func Default() Set {
	return Set{Environments: []Environment{
		{Name: "dev", Soak: 0, MaxConcurrency: 4, Account: "flotilla-dev"},
		{Name: "staging", Soak: 10 * time.Minute, MaxConcurrency: 2, Account: "flotilla-staging"},
		{Name: "prod", RequiresApproval: true, Protected: true, Soak: 30 * time.Minute, MaxConcurrency: 1, Account: "flotilla-prod"},
	}}
}

// Get returns the environment with the given name.
func (s Set) Get(name string) (Environment, bool) {
	for _, e := range s.Environments {
		if e.Name == name {
			return e, true
		}
	}
	return Environment{}, false
}

// Names returns the environments' names in promotion order.
func (s Set) Names() []string {
	names := make([]string, 0, len(s.Environments))
	for _, e := range s.Environments {
		names = append(names, e.Name)
	}
	return names
}

// EnvironmentOf returns the environment a stack is listed under.
func (s Set) EnvironmentOf(stack string) (Environment, bool) {
	for _, e := range s.Environments {
		for _, st := range e.Stacks() {
			if st == stack {
				return e, true
			}
		}
	}
	return Environment{}, false
}

// Stacks returns every stack of the set, in promotion order.
func (s Set) Stacks() []string {
	var out []string
	for _, e := range s.Environments {
		out = append(out, e.Stacks()...)
	}
	return out
}

// Next returns the environment promoted to after name; false when name is the last one
// or not in the set.
func (s Set) Next(name string) (Environment, bool) {
	for i, e := range s.Environments {
		if e.Name == name {
			if i+1 < len(s.Environments) {
				return s.Environments[i+1], true
			}
			return Environment{}, false
		}
	}
	return Environment{}, false
}

// dnsLabel is a Kubernetes DNS-1123 label; environment, team and namespace names all
// end up in object names, label values and Pulumi stack names, so they must be one.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func checkDNSLabel(s string) error {
	if len(s) > 63 {
		return fmt.Errorf("%q is longer than 63 characters", s)
	}
	if !dnsLabel.MatchString(s) {
		return fmt.Errorf("%q is not a DNS label (lower-case letters, digits and '-', starting and ending with a letter or digit)", s)
	}
	return nil
}

// Validate reports every problem in the set at once, each naming its environment: an
// empty set, missing, malformed or duplicate names, MaxConcurrency below 1, a negative
// Soak, and a production environment (Protected, or named "prod" or "production") that
// shares an account (Account or Accounts) with a non-production one, an Accounts key that is not a cloud, a negative MaxFailures, an invalid
// MaintenanceWindow, an empty wave, and a stack listed twice or under two environments. An empty Account is not compared.
func (s Set) Validate() error {
	if len(s.Environments) == 0 {
		return errors.New("the environment set is empty: define at least one environment, e.g. dev, staging and prod")
	}
	var problems []error
	seen := map[string]bool{}
	stackOwner := map[string]string{}
	for i, e := range s.Environments {
		who := fmt.Sprintf("environment %q", e.Name)
		switch {
		case e.Name == "":
			who = fmt.Sprintf("environment #%d", i+1)
			problems = append(problems, fmt.Errorf("%s has no name", who))
		case seen[e.Name]:
			problems = append(problems, fmt.Errorf("%s is defined more than once", who))
		default:
			if err := checkDNSLabel(e.Name); err != nil {
				problems = append(problems, fmt.Errorf("%s: name %w", who, err))
			}
		}
		seen[e.Name] = true
		for c := range e.Accounts {
			if !slices.Contains([]cluster.Cloud{cluster.AWS, cluster.GCP, cluster.Azure, cluster.Sim}, c) {
				problems = append(problems, fmt.Errorf("%s: accounts: %q is not a cloud: use aws, gcp, azure or sim", who, c))
			}
		}
		if e.MaxConcurrency < 1 {
			problems = append(problems, fmt.Errorf("%s: maxConcurrency is %d; it must be at least 1", who, e.MaxConcurrency))
		}
		if e.Soak < 0 {
			problems = append(problems, fmt.Errorf("%s: soak is %s; it must not be negative", who, e.Soak))
		}
		if e.MaxFailures < 0 {
			problems = append(problems, fmt.Errorf("%s: maxFailures is %d; it must not be negative", who, e.MaxFailures))
		}
		for _, p := range e.MaintenanceWindow.problems() {
			problems = append(problems, fmt.Errorf("%s: maintenanceWindow: %w", who, p))
		}
		for w, wave := range e.Waves {
			if len(wave) == 0 {
				problems = append(problems, fmt.Errorf("%s: wave %d is empty: list at least one stack in it", who, w+1))
			}
			for _, st := range wave {
				if err := checkDNSLabel(st); err != nil {
					problems = append(problems, fmt.Errorf("%s: wave %d: stack name %w", who, w+1, err))
					continue
				}
				if prev, ok := stackOwner[st]; ok {
					problems = append(problems, fmt.Errorf("%s: stack %q is already listed under environment %q: a stack belongs to one environment, once", who, st, prev))
					continue
				}
				stackOwner[st] = e.Name
			}
		}
		if len(e.Waves) == 0 && e.Name != "" {
			if prev, ok := stackOwner[e.Name]; ok && prev != e.Name {
				problems = append(problems, fmt.Errorf("%s: its default stack %q is already listed under environment %q", who, e.Name, prev))
			}
			stackOwner[e.Name] = e.Name
		}
	}
	for _, p := range s.Environments {
		if !p.production() {
			continue
		}
		for _, account := range p.accounts() {
			var shared []string
			for _, o := range s.Environments {
				if !o.production() && slices.Contains(o.accounts(), account) {
					shared = append(shared, fmt.Sprintf("%q", o.Name))
				}
			}
			if len(shared) > 0 {
				problems = append(problems, fmt.Errorf("environment %q is production but shares account %q with %s: give production an account of its own",
					p.Name, account, strings.Join(shared, ", ")))
			}
		}
	}
	return errors.Join(problems...)
}
