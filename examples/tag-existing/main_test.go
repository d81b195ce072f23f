package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/internal/pulumitest"
)

func TestProgram(t *testing.T) {
	t.Parallel()
	for _, env := range []string{"dev", "prod"} {
		t.Run(env, func(t *testing.T) {
			t.Parallel()
			m := pulumitest.New()
			require.NoError(t, m.RunWithConfig(pulumitest.Stack, map[string]string{"flotilla:environment": env}, program))

			aws := map[string]string{"env": env, "team": "reports", "cost-center": "CC-4200"}
			gcp := map[string]string{"env": env, "team": "reports", "cost-center": "cc-4200"}
			kube := aws
			tests := []struct {
				typ, name string
				path      []any // where the resource takes its tags
				want      map[string]string
			}{
				{"aws:ec2/vpc:Vpc", "reports", []any{"tags"}, with(aws, "Name", "reports")},
				{"aws:ec2/subnet:Subnet", "reports-private", []any{"tags"}, aws},
				{"aws:s3/bucketV2:BucketV2", "reports-archive", []any{"tags"}, aws},
				{"gcp:storage/bucket:Bucket", "reports-exports", []any{"labels"}, gcp},
				{"kubernetes:core/v1:Namespace", "reports", []any{"metadata", "labels"}, kube},
				{"kubernetes:apps/v1:Deployment", "reports-api", []any{"metadata", "labels"}, kube},
			}
			for _, tt := range tests {
				r := m.MustGet(t, tt.typ, tt.name)
				assert.Equal(t, tt.want, pulumitest.PropStringMap(t, r.Input(t, tt.path...)), "%s %s", tt.typ, tt.name)
			}

			// Only the VPC mentions tags in the program; the rest were tagged by costtags alone.
			for _, r := range m.Resources() {
				if r.Type == "aws:ec2/vpc:Vpc" || !r.Custom {
					continue
				}
				assert.NotContains(t, r.Raw, "tags", "%s %s", r.Type, r.Name)
				assert.NotContains(t, r.Raw, "labels", "%s %s", r.Type, r.Name)
				if md, ok := r.Raw["metadata"]; ok {
					assert.NotContains(t, md.ObjectValue(), "labels", "%s %s", r.Type, r.Name)
				}
			}

			// The pod template keeps its labels: the Deployment's selector still matches.
			d := m.MustGet(t, "kubernetes:apps/v1:Deployment", "reports-api")
			assert.Equal(t, map[string]string{"app": "reports-api"},
				pulumitest.PropStringMap(t, d.Input(t, "spec", "template", "metadata", "labels")))
		})
	}
}

func TestProgramRejectsUnknownEnvironment(t *testing.T) {
	t.Parallel()
	m := pulumitest.New()
	err := m.RunWithConfig(pulumitest.Stack, map[string]string{"flotilla:environment": "qa"}, program)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `tag "env" is "qa"`)
	assert.Empty(t, m.Resources(), "nothing is created untagged")
}

// with returns a copy of tags with k set to v.
func with(tags map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for key, val := range tags {
		out[key] = val
	}
	return out
}
