package spotpool_test

import (
	"fmt"
	"testing"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/spotpool"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// BenchmarkThirtyClusters constructs 30 clusters, ten on each cloud, with two spot pools
// each, under the mocks: the cost of a fleet-sized program before the engine's.
func BenchmarkThirtyClusters(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		m := pulumitest.New().FakeClouds()
		err := m.Run(func(ctx *pulumi.Context) error {
			for i := range 30 {
				cloud := clouds[i%len(clouds)]
				name := fmt.Sprintf("c%02d", i)
				c, err := cluster.New(ctx, name, clusterArgs(cloud, "staging"))
				if err != nil {
					return err
				}
				for _, pool := range []string{"batch", "web"} {
					if _, err := spotpool.New(ctx, name+"-"+pool, poolArgs(c)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
