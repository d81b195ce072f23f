package envset_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/components/envset"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func ExampleDefault() {
	set := envset.Default()
	for _, e := range set.Environments {
		fmt.Printf("%s: approval=%t protected=%t soak=%s concurrency=%d\n",
			e.Name, e.RequiresApproval, e.Protected, e.Soak, e.MaxConcurrency)
	}
	next, _ := set.Next("staging")
	fmt.Println("after staging:", next.Name)
	// Output:
	// dev: approval=false protected=false soak=0s concurrency=4
	// staging: approval=false protected=false soak=10m0s concurrency=2
	// prod: approval=true protected=true soak=30m0s concurrency=1
	// after staging: prod
}

func ExampleLoad() {
	dir, err := os.MkdirTemp("", "envset")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "environments.yaml")
	file := `environments:
  - name: dev
    maxConcurrency: 4
    account: "111111111111"
  - name: prod
    requiresApproval: true
    protected: true
    soak: 30m
    maxConcurrency: 1
    account: "222222222222"
`
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		fmt.Println(err)
		return
	}
	set, err := envset.Load(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	prod, _ := set.Get("prod")
	fmt.Println(set.Names(), prod.Soak, prod.Protected)
	// Output: [dev prod] 30m0s true
}

func ExampleNew() {
	teams := []envset.Team{{
		Name:       "payments",
		Namespaces: []string{"payments"},
		Access:     map[string]envset.Access{"dev": envset.AccessEdit, "prod": envset.AccessEdit},
	}}
	for _, env := range []string{"dev", "prod"} {
		m := pulumitest.New()
		err := m.Run(func(ctx *pulumi.Context) error {
			// In a stack the clusters come from the cluster or geofleet components.
			kube, err := kubernetes.NewProvider(ctx, "kube", &kubernetes.ProviderArgs{})
			if err != nil {
				return err
			}
			_, err = envset.New(ctx, env, &envset.Args{
				Set:         envset.Default(),
				Environment: env,
				Clusters:    []*cluster.Cluster{{Cloud: cluster.AWS, Region: "us-east-1", KubeProvider: kube}},
				Teams:       teams,
				Tags:        costtags.Tags{"cost-center": "cc-42"},
			})
			return err
		})
		if err != nil {
			fmt.Println(err)
			return
		}
		var bindings []string
		for _, rb := range m.ByType("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding") {
			meta := rb.Inputs["metadata"].ObjectValue()
			subject := rb.Inputs["subjects"].ArrayValue()[0].ObjectValue()["name"].StringValue()
			role := rb.Inputs["roleRef"].ObjectValue()["name"].StringValue()
			bindings = append(bindings, fmt.Sprintf("%s/%s: %s -> %s", env, meta["namespace"].StringValue(), subject, role))
		}
		sort.Strings(bindings)
		for _, b := range bindings {
			fmt.Println(b)
		}
	}
	// Output:
	// dev/payments: flotilla-deploy -> flotilla-admin
	// dev/payments: flotilla:payments -> flotilla-edit
	// prod/payments: flotilla-deploy -> flotilla-admin
	// prod/payments: flotilla:payments -> flotilla-view
}
