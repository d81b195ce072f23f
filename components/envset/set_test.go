package envset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/components/cluster"
)

func TestDefault(t *testing.T) {
	t.Parallel()
	s := Default()
	require.NoError(t, s.Validate())
	require.Equal(t, []string{"dev", "staging", "prod"}, s.Names())

	dev, staging, prod := s.Environments[0], s.Environments[1], s.Environments[2]
	assert.False(t, dev.RequiresApproval)
	assert.False(t, dev.Protected)
	assert.False(t, staging.Protected)
	assert.True(t, prod.RequiresApproval)
	assert.True(t, prod.Protected)
	assert.Less(t, dev.Soak, staging.Soak, "soak grows towards production")
	assert.Less(t, staging.Soak, prod.Soak, "soak grows towards production")
	assert.Greater(t, dev.MaxConcurrency, staging.MaxConcurrency)
	assert.Equal(t, 1, prod.MaxConcurrency, "prod rolls out one stack at a time")
	accounts := map[string]bool{}
	for _, e := range s.Environments {
		require.NotEmpty(t, e.Account, e.Name)
		accounts[e.Account] = true
	}
	assert.Len(t, accounts, 3, "each environment has an account of its own")
}

func TestSetGetNamesNext(t *testing.T) {
	t.Parallel()
	s := Default()
	tests := []struct {
		name     string
		wantGet  bool
		next     string
		wantNext bool
	}{
		{name: "dev", wantGet: true, next: "staging", wantNext: true},
		{name: "staging", wantGet: true, next: "prod", wantNext: true},
		{name: "prod", wantGet: true},
		{name: "qa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, ok := s.Get(tt.name)
			assert.Equal(t, tt.wantGet, ok)
			if ok {
				assert.Equal(t, tt.name, e.Name)
			}
			n, ok := s.Next(tt.name)
			assert.Equal(t, tt.wantNext, ok)
			assert.Equal(t, tt.next, n.Name)
		})
	}
	assert.Empty(t, Set{}.Names())
}

func TestValidate(t *testing.T) {
	t.Parallel()
	env := func(name, account string, protected bool) Environment {
		return Environment{Name: name, Account: account, Protected: protected, MaxConcurrency: 1}
	}
	tests := []struct {
		name string
		set  Set
		want []string // substrings of the error; nil means valid
	}{
		{name: "default", set: Default()},
		{
			name: "production environments may share an account with each other",
			set:  Set{Environments: []Environment{env("dev", "a", false), env("prod-eu", "p", true), env("prod-us", "p", true)}},
		},
		{
			name: "empty accounts are not compared",
			set:  Set{Environments: []Environment{env("dev", "", false), env("prod", "", true)}},
		},
		{name: "empty set", set: Set{}, want: []string{"empty"}},
		{
			name: "duplicate names",
			set:  Set{Environments: []Environment{env("dev", "a", false), env("dev", "b", false)}},
			want: []string{`environment "dev" is defined more than once`},
		},
		{
			name: "protected environment shares an account",
			set:  Set{Environments: []Environment{env("dev", "a", false), env("staging", "a", false), env("live", "a", true)}},
			want: []string{`environment "live" is production but shares account "a" with "dev", "staging"`},
		},
		{
			name: "environment named prod shares an account",
			set:  Set{Environments: []Environment{env("dev", "a", false), env("prod", "a", false)}},
			want: []string{`environment "prod" is production but shares account "a" with "dev"`},
		},
		{
			name: "a per-cloud account of prod is dev's",
			set: Set{Environments: []Environment{
				{Name: "dev", MaxConcurrency: 1, Accounts: map[cluster.Cloud]string{cluster.AWS: "111111111111", cluster.GCP: "acme-dev"}},
				{Name: "prod", MaxConcurrency: 1, Accounts: map[cluster.Cloud]string{cluster.AWS: "999999999999", cluster.GCP: "acme-dev"}},
			}},
			want: []string{`environment "prod" is production but shares account "acme-dev" with "dev"`},
		},
		{
			name: "per-cloud accounts of their own",
			set: Set{Environments: []Environment{
				{Name: "dev", MaxConcurrency: 1, Accounts: map[cluster.Cloud]string{cluster.AWS: "111111111111", cluster.GCP: "acme-dev"}},
				{Name: "prod", MaxConcurrency: 1, Accounts: map[cluster.Cloud]string{cluster.AWS: "999999999999", cluster.GCP: "acme-prod"}},
			}},
		},
		{
			name: "an accounts key that is not a cloud",
			set:  Set{Environments: []Environment{{Name: "dev", MaxConcurrency: 1, Accounts: map[cluster.Cloud]string{"amazon": "111111111111"}}}},
			want: []string{`environment "dev": accounts: "amazon" is not a cloud: use aws, gcp, azure or sim`},
		},
		{
			name: "max concurrency below one",
			set:  Set{Environments: []Environment{{Name: "dev", MaxConcurrency: 0}}},
			want: []string{`environment "dev": maxConcurrency is 0; it must be at least 1`},
		},
		{
			name: "negative soak",
			set:  Set{Environments: []Environment{{Name: "dev", MaxConcurrency: 1, Soak: -time.Minute}}},
			want: []string{`environment "dev": soak is -1m0s`},
		},
		{
			name: "empty name",
			set:  Set{Environments: []Environment{env("dev", "a", false), env("", "b", false)}},
			want: []string{"environment #2 has no name"},
		},
		{
			name: "name that is not a DNS label",
			set:  Set{Environments: []Environment{env("Dev_1", "a", false)}},
			want: []string{`environment "Dev_1": name "Dev_1" is not a DNS label`},
		},
		{
			name: "every problem at once",
			set: Set{Environments: []Environment{
				{Name: "dev", Account: "a"},
				{Name: "dev", Account: "b", MaxConcurrency: 1},
				{Name: "", MaxConcurrency: -2},
				{Name: "prod", Account: "a", MaxConcurrency: 1},
			}},
			want: []string{
				`environment "dev": maxConcurrency is 0`,
				`environment "dev" is defined more than once`,
				"environment #3 has no name",
				"environment #3: maxConcurrency is -2",
				`environment "prod" is production but shares account "a" with "dev"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.set.Validate()
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Len(t, strings.Split(err.Error(), "\n"), len(tt.want), "one line per problem: %v", err)
		})
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		want Set
		errs []string // substrings; the file's path is always expected too
	}{
		{
			name: "full file",
			file: `environments:
  - name: dev
    maxConcurrency: 4
    account: "111111111111"
  - name: staging
    soak: 10m
    maxConcurrency: 2
    account: "222222222222"
  - name: prod
    requiresApproval: true
    protected: true
    soak: 1h30m
    maxConcurrency: 1
    account: "333333333333"
`,
			want: Set{Environments: []Environment{
				{Name: "dev", MaxConcurrency: 4, Account: "111111111111"},
				{Name: "staging", Soak: 10 * time.Minute, MaxConcurrency: 2, Account: "222222222222"},
				{Name: "prod", RequiresApproval: true, Protected: true, Soak: 90 * time.Minute, MaxConcurrency: 1, Account: "333333333333"},
			}},
		},
		{
			name: "unknown field in an environment",
			file: "environments:\n  - name: dev\n    maxConcurrency: 1\n    soakTime: 10m\n",
			errs: []string{`line 4: unknown field "environments[0].soakTime"`, `environment "dev"`, "known fields: account, accounts, maintenanceWindow, maxConcurrency"},
		},
		{
			name: "unknown top-level field",
			file: "environment:\n  - name: dev\n",
			errs: []string{`line 1: unknown field "environment"`},
		},
		{
			name: "duration without a unit",
			file: "environments:\n  - name: dev\n    maxConcurrency: 1\n    soak: 600\n",
			errs: []string{`line 4: environments[0].soak: "600" is not a duration`},
		},
		{
			name: "wrong type",
			file: "environments:\n  - name: dev\n    maxConcurrency: many\n",
			errs: []string{"line 3: environments[0].maxConcurrency: cannot unmarshal !!str `many` into int"},
		},
		{
			name: "every problem at once",
			file: "environments:\n  - name: dev\n    maxConcurrency: 1\n    color: red\n  - name: prod\n    maxConcurrency: 1\n    soak: soon\n",
			errs: []string{`unknown field "environments[0].color"`, `environment "prod": line 7: environments[1].soak: "soon"`},
		},
		{
			name: "empty file",
			file: "",
			errs: []string{"empty"},
		},
		{
			name: "parsed but invalid",
			file: "environments:\n  - name: dev\n    account: a\n    maxConcurrency: 1\n  - name: prod\n    account: a\n",
			errs: []string{`environment "prod": maxConcurrency is 0`, `environment "prod" is production but shares account "a" with "dev"`},
		},
		{
			name: "not a mapping",
			file: "- dev\n- prod\n",
			errs: []string{`line 1: expected a mapping with an "environments" list`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "environments.yaml")
			require.NoError(t, os.WriteFile(path, []byte(tt.file), 0o600))
			got, err := Load(path)
			if tt.errs == nil {
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), path)
			for _, w := range tt.errs {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(path)
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), path)
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data string
		want []string // error substrings; nil means valid
	}{
		{name: "valid", data: "environments:\n  - name: dev\n    maxConcurrency: 2\n"},
		{name: "unknown field", data: "environments:\n  - name: dev\n    maxConcurrency: 2\n    zone: a\n",
			want: []string{`embedded.yaml: environment "dev": line 4: unknown field "environments[0].zone"`}},
		{name: "invalid set", data: "environments:\n  - name: dev\n",
			want: []string{`embedded.yaml: environment "dev": maxConcurrency is 0`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := Parse([]byte(tt.data), "embedded.yaml")
			if tt.want == nil {
				require.NoError(t, err)
				assert.Equal(t, Set{Environments: []Environment{{Name: "dev", MaxConcurrency: 2}}}, set)
				return
			}
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestLoadStacksAndWaves(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		env        string // the prod environment's extra lines
		waves      [][]string
		maxFailure int
		errs       []string
	}{
		{name: "neither: one stack named after the environment", waves: [][]string{{"prod"}}},
		{name: "waves in order", env: "    waves:\n      - [prod-canary]\n      - [prod-east, prod-eu]\n",
			waves: [][]string{{"prod-canary"}, {"prod-east", "prod-eu"}}},
		{name: "flow-style waves", env: "    waves: [[prod-canary], [prod-east, prod-eu]]\n",
			waves: [][]string{{"prod-canary"}, {"prod-east", "prod-eu"}}},
		{name: "a plain stacks list is one wave", env: "    stacks: [prod-east, prod-eu]\n",
			waves: [][]string{{"prod-east", "prod-eu"}}},
		{name: "a failure budget", env: "    maxFailures: 2\n    stacks: [prod-a, prod-b, prod-c]\n",
			waves: [][]string{{"prod-a", "prod-b", "prod-c"}}, maxFailure: 2},
		{name: "both stacks and waves", env: "    stacks: [prod-a]\n    waves: [[prod-b]]\n",
			errs: []string{`environment "prod": line 7: environments[1]: give either stacks or waves, not both`}},
		{name: "waves that are not lists of lists", env: "    waves: [prod-a, prod-b]\n",
			errs: []string{`environment "prod": line 6: environments[1].waves: cannot unmarshal`}},
		{name: "a negative failure budget", env: "    maxFailures: -1\n",
			errs: []string{`environment "prod": maxFailures is -1; it must not be negative`}},
		{name: "a failure budget that is not a number", env: "    maxFailures: some\n",
			errs: []string{"environments[1].maxFailures: cannot unmarshal !!str `some` into int"}},
		{name: "an empty wave", env: "    waves: [[prod-canary], []]\n",
			errs: []string{`environment "prod": wave 2 is empty: list at least one stack in it`}},
		{name: "a stack listed twice", env: "    waves: [[prod-canary], [prod-east, prod-canary]]\n",
			errs: []string{`environment "prod": stack "prod-canary" is already listed under environment "prod"`}},
		{name: "a stack under two environments", env: "    stacks: [dev, prod-east]\n",
			errs: []string{`environment "prod": stack "dev" is already listed under environment "dev"`}},
		{name: "a stack name that is not a DNS label", env: "    stacks: [Prod_East]\n",
			errs: []string{`environment "prod": wave 1: stack name "Prod_East" is not a DNS label`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := "environments:\n  - name: dev\n    maxConcurrency: 1\n  - name: prod\n    maxConcurrency: 1\n" + tt.env
			path := filepath.Join(t.TempDir(), "environments.yaml")
			require.NoError(t, os.WriteFile(path, []byte(file), 0o600))
			set, err := Load(path)
			if tt.errs != nil {
				require.Error(t, err)
				assert.Contains(t, err.Error(), path)
				for _, w := range tt.errs {
					assert.Contains(t, err.Error(), w)
				}
				return
			}
			require.NoError(t, err)
			prod, ok := set.Get("prod")
			require.True(t, ok)
			assert.Equal(t, tt.waves, prod.StackWaves())
			assert.Equal(t, tt.maxFailure, prod.MaxFailures)

			var all []string
			for _, w := range tt.waves {
				all = append(all, w...)
			}
			assert.Equal(t, all, prod.Stacks())
			assert.Equal(t, append([]string{"dev"}, all...), set.Stacks(), "every stack, in promotion order")
			for _, s := range all {
				env, ok := set.EnvironmentOf(s)
				require.True(t, ok, s)
				assert.Equal(t, "prod", env.Name)
			}
			_, ok = set.EnvironmentOf("qa")
			assert.False(t, ok, "a stack no environment lists")
		})
	}
}

func TestValidateStacksAndWaves(t *testing.T) {
	t.Parallel()
	env := func(name string, waves ...[]string) Environment {
		return Environment{Name: name, MaxConcurrency: 1, Waves: waves}
	}
	tests := []struct {
		name string
		set  Set
		want []string // nil means valid
	}{
		{name: "waves of distinct stacks", set: Set{Environments: []Environment{env("dev"), env("prod", []string{"prod-a"}, []string{"prod-b", "prod-c"})}}},
		{name: "an environment listing its own name", set: Set{Environments: []Environment{env("dev", []string{"dev", "dev-2"})}}},
		{name: "empty wave", set: Set{Environments: []Environment{env("prod", []string{"prod-a"}, []string{})}},
			want: []string{`environment "prod": wave 2 is empty`}},
		{name: "stack twice in one environment", set: Set{Environments: []Environment{env("prod", []string{"prod-a"}, []string{"prod-a"})}},
			want: []string{`environment "prod": stack "prod-a" is already listed under environment "prod"`}},
		{name: "stack in two environments", set: Set{Environments: []Environment{env("staging", []string{"shared"}), env("prod", []string{"shared"})}},
			want: []string{`environment "prod": stack "shared" is already listed under environment "staging"`}},
		{name: "another environment's default stack", set: Set{Environments: []Environment{env("staging", []string{"prod"}), env("prod")}},
			want: []string{`environment "prod": its default stack "prod" is already listed under environment "staging"`}},
		{name: "negative failure budget", set: Set{Environments: []Environment{{Name: "dev", MaxConcurrency: 1, MaxFailures: -1}}},
			want: []string{`environment "dev": maxFailures is -1; it must not be negative`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.set.Validate()
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Len(t, strings.Split(err.Error(), "\n"), len(tt.want), "one line per problem: %v", err)
		})
	}
}

func TestAccountFor(t *testing.T) {
	t.Parallel()
	set, err := Parse([]byte(`environments:
  - name: dev
    account: acme-dev
    maxConcurrency: 1
  - name: prod
    account: "999999999999"
    maxConcurrency: 1
    accounts: {gcp: acme-prod, azure: 2b7f5a4e-9d0c-4f53-8a51-6c7e3d2f1a90}
`), "environments.yaml")
	require.NoError(t, err)
	dev, _ := set.Get("dev")
	prod, _ := set.Get("prod")
	assert.Equal(t, "acme-dev", dev.AccountFor(cluster.GCP), "Account is every cloud's")
	assert.Equal(t, "999999999999", prod.AccountFor(cluster.AWS), "a cloud Accounts leaves out takes Account")
	assert.Equal(t, "acme-prod", prod.AccountFor(cluster.GCP))
	assert.Equal(t, "2b7f5a4e-9d0c-4f53-8a51-6c7e3d2f1a90", prod.AccountFor(cluster.Azure))
}
