package costtags_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/components/costtags"
)

type normalizeCase struct {
	name string
	in   costtags.Tags
	want map[string]string
	// errs are fragments the error must contain; none means no error.
	errs []string
}

func runNormalizeCases(t *testing.T, fn func(costtags.Tags) (map[string]string, error), cases []normalizeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := fn(tc.in)
			if len(tc.errs) == 0 {
				require.NoError(t, err)
				assert.Equal(t, tc.want, got)
				again, err := fn(got)
				require.NoError(t, err, "normalising the output again")
				assert.Equal(t, got, again, "normalisation is idempotent")
				return
			}
			require.Error(t, err)
			assert.Nil(t, got)
			for _, frag := range tc.errs {
				assert.Contains(t, err.Error(), frag)
			}
		})
	}
}

func many(n int) costtags.Tags {
	t := costtags.Tags{}
	for i := range n {
		t[fmt.Sprintf("k%02d", i)] = "v"
	}
	return t
}

func TestForAWS(t *testing.T) {
	t.Parallel()
	runNormalizeCases(t, costtags.ForAWS, []normalizeCase{
		{name: "valid tags are kept as they are",
			in:   costtags.Tags{"Cost Center": "CC 1234", "team": "a+b=c.d_e:f/g@h-i", "Ünicode": "wért 42"},
			want: map[string]string{"Cost Center": "CC 1234", "team": "a+b=c.d_e:f/g@h-i", "Ünicode": "wért 42"}},
		{name: "runs of disallowed characters become one underscore",
			in:   costtags.Tags{"team#&*name": "pay$$ments!", "owner": "a,b;c"},
			want: map[string]string{"team_name": "pay_ments_", "owner": "a_b_c"}},
		{name: "invalid UTF-8 is replaced",
			in:   costtags.Tags{"k\xff\xfe": "v\xc3"},
			want: map[string]string{"k_": "v_"}},
		{name: "empty value is allowed",
			in:   costtags.Tags{"team": ""},
			want: map[string]string{"team": ""}},
		{name: "nil tags", in: nil, want: map[string]string{}},
		{name: "limits are inclusive",
			in:   costtags.Tags{strings.Repeat("k", 128): strings.Repeat("v", 256)},
			want: map[string]string{strings.Repeat("k", 128): strings.Repeat("v", 256)}},
		{name: "fifty tags", in: many(50), want: map[string]string(many(50))},
		{name: "reserved prefix in any case",
			in:   costtags.Tags{"aws:team": "x", "AWS:owner": "y"},
			errs: []string{`AWS tag "aws:team"`, `AWS tag "AWS:owner"`, `"aws:" prefix is reserved`}},
		{name: "too long key and value",
			in:   costtags.Tags{strings.Repeat("k", 129): "v", "team": strings.Repeat("v", 257)},
			errs: []string{fmt.Sprintf("%q", strings.Repeat("k", 129)), "129 characters", `AWS tag "team": value`, "257 characters", "shorten it"}},
		{name: "two keys that become one",
			in:   costtags.Tags{"team!": "a", "team?": "b"},
			errs: []string{`AWS tags "team!" and "team?" both become "team_"`}},
		{name: "empty key", in: costtags.Tags{"": "x"}, errs: []string{`AWS tag ""`, "empty"}},
		{name: "too many tags", in: many(51), errs: []string{"at most 50 tags and there are 51"}},
	})
}

func TestForGCP(t *testing.T) {
	t.Parallel()
	runNormalizeCases(t, costtags.ForGCP, []normalizeCase{
		{name: "valid labels are kept as they are",
			in:   costtags.Tags{"cost-center": "cc-1234", "team_name": "payments", "x": ""},
			want: map[string]string{"cost-center": "cc-1234", "team_name": "payments", "x": ""}},
		{name: "lowercased and runs replaced",
			in:   costtags.Tags{"Cost Center": "CC/1234", "Team": "Payments Team!!"},
			want: map[string]string{"cost_center": "cc_1234", "team": "payments_team_"}},
		{name: "leading underscores leave the key",
			in:   costtags.Tags{"  owner": "Ünicode"},
			want: map[string]string{"owner": "_nicode"}},
		{name: "limits are inclusive",
			in:   costtags.Tags{strings.Repeat("k", 63): strings.Repeat("v", 63)},
			want: map[string]string{strings.Repeat("k", 63): strings.Repeat("v", 63)}},
		{name: "sixty-four labels", in: many(64), want: map[string]string(many(64))},
		{name: "key must start with a letter",
			in:   costtags.Tags{"1team": "x", "-owner": "y"},
			errs: []string{`GCP label "1team"`, `GCP label "-owner"`, "must start with a lowercase letter"}},
		{name: "keys that differ only in case collide",
			in:   costtags.Tags{"Team": "a", "team": "b"},
			errs: []string{`GCP labels "Team" and "team" both become "team"`}},
		{name: "too long",
			in:   costtags.Tags{strings.Repeat("k", 64): "v", "team": strings.Repeat("v", 64)},
			errs: []string{"64 characters", `GCP label "team": value`}},
		{name: "key of nothing but symbols", in: costtags.Tags{"!!!": "x"}, errs: []string{`GCP label "!!!"`, "empty"}},
		{name: "too many labels", in: many(65), errs: []string{"at most 64 labels and there are 65"}},
	})
}

func TestForAzure(t *testing.T) {
	t.Parallel()
	runNormalizeCases(t, costtags.ForAzure, []normalizeCase{
		{name: "valid tags are kept as they are",
			in:   costtags.Tags{"Cost Center": "CC/1234 <main>", "team": "Payments & Co?"},
			want: map[string]string{"Cost Center": "CC/1234 <main>", "team": "Payments & Co?"}},
		{name: "forbidden name characters are replaced",
			in:   costtags.Tags{"a<b>c%d&e\\f?g/h": "v", "x//y": "w"},
			want: map[string]string{"a_b_c_d_e_f_g_h": "v", "x_y": "w"}},
		{name: "limits are inclusive",
			in:   costtags.Tags{strings.Repeat("k", 512): strings.Repeat("v", 256)},
			want: map[string]string{strings.Repeat("k", 512): strings.Repeat("v", 256)}},
		{name: "names differing in case collide",
			in:   costtags.Tags{"Team": "a", "team": "b"},
			errs: []string{`Azure tags "Team" and "team" both become "team"`}},
		{name: "too long",
			in:   costtags.Tags{strings.Repeat("k", 513): "v", "team": strings.Repeat("v", 257)},
			errs: []string{"513 characters", `Azure tag "team": value`}},
		{name: "too many tags", in: many(51), errs: []string{"at most 50 tags and there are 51"}},
	})
}

func TestForKubernetes(t *testing.T) {
	t.Parallel()
	runNormalizeCases(t, costtags.ForKubernetes, []normalizeCase{
		{name: "valid labels are kept as they are",
			in:   costtags.Tags{"Cost-Center": "CC-1234", "example.com/team": "Pay.ments_1", "x": ""},
			want: map[string]string{"Cost-Center": "CC-1234", "example.com/team": "Pay.ments_1", "x": ""}},
		{name: "runs replaced and underscores trimmed",
			in:   costtags.Tags{"cost center": "CC/1234", " team ": "  Payments Team!! "},
			want: map[string]string{"cost_center": "CC_1234", "team": "Payments_Team"}},
		{name: "prefix is lowercased",
			in:   costtags.Tags{"Example.COM/Team": "a"},
			want: map[string]string{"example.com/Team": "a"}},
		{name: "slashes after the prefix are replaced",
			in:   costtags.Tags{"example.com/a/b": "x"},
			want: map[string]string{"example.com/a_b": "x"}},
		{name: "a value of symbols only becomes empty",
			in:   costtags.Tags{"team": "!!!"},
			want: map[string]string{"team": ""}},
		{name: "limits are inclusive",
			in: costtags.Tags{
				strings.Repeat("p", 63) + "." + strings.Repeat("q", 63) + "." + strings.Repeat("r", 63) + "." + strings.Repeat("s", 61) + "/" + strings.Repeat("n", 63): strings.Repeat("v", 63),
			},
			want: map[string]string{
				strings.Repeat("p", 63) + "." + strings.Repeat("q", 63) + "." + strings.Repeat("r", 63) + "." + strings.Repeat("s", 61) + "/" + strings.Repeat("n", 63): strings.Repeat("v", 63),
			}},
		{name: "invalid prefix",
			in:   costtags.Tags{"bad_prefix/team": "a", "/owner": "b", "-x.com/y": "c"},
			errs: []string{`Kubernetes label "bad_prefix/team"`, `Kubernetes label "/owner"`, `Kubernetes label "-x.com/y"`, "DNS subdomain"}},
		{name: "name and value must start and end alphanumeric",
			in:   costtags.Tags{"-team": "a", "owner": ".b"},
			errs: []string{`Kubernetes label "-team"`, `the name "-team" must start and end with a letter or digit`, `Kubernetes label "owner": value ".b"`}},
		{name: "too long",
			in:   costtags.Tags{strings.Repeat("k", 64): "a", "team": strings.Repeat("v", 64), strings.Repeat("p", 254) + "/x": "b"},
			errs: []string{"the name is 64 characters", "the value is 64 characters", "DNS subdomain of at most 253"}},
		{name: "keys that become the same",
			in:   costtags.Tags{"team!": "a", "team": "b"},
			errs: []string{`Kubernetes labels "team" and "team!" both become "team"`}},
		{name: "empty name", in: costtags.Tags{"example.com/": "x", "": "y"}, errs: []string{`Kubernetes label "example.com/"`, `Kubernetes label ""`, "empty"}},
	})
}

func TestNormalizeIsDeterministic(t *testing.T) {
	t.Parallel()
	// Many keys collide and many are invalid; the report must not depend on map order.
	in := costtags.Tags{}
	for i := range 40 {
		in[fmt.Sprintf("Team%c%d", "!?#"[i%3], i/3)] = "x"
		in[fmt.Sprintf("%d-bad", i)] = "y"
	}
	for name, fn := range map[string]func(costtags.Tags) (map[string]string, error){
		"aws": costtags.ForAWS, "gcp": costtags.ForGCP, "azure": costtags.ForAzure, "kubernetes": costtags.ForKubernetes,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, first := fn(in)
			require.Error(t, first)
			for range 20 {
				_, err := fn(in)
				require.Error(t, err)
				assert.Equal(t, first.Error(), err.Error())
			}
		})
	}
}
