package zzscratch

import (
	"context"
	"os"
	"testing"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func TestProvider(t *testing.T) {
	kc, err := os.ReadFile("/tmp/kp-scratch/kubeconfig")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	prog := func(ctx *pulumi.Context) error {
		p, err := kubernetes.NewProvider(ctx, "k", &kubernetes.ProviderArgs{Kubeconfig: pulumi.String(string(kc))})
		if err != nil {
			return err
		}
		ns, err := corev1.NewNamespace(ctx, "team", &corev1.NamespaceArgs{Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("team")}}, pulumi.Provider(p))
		if err != nil {
			return err
		}
		_, err = corev1.NewResourceQuota(ctx, "q", &corev1.ResourceQuotaArgs{
			Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("q"), Namespace: ns.Metadata.Name()},
			Spec:     &corev1.ResourceQuotaSpecArgs{Hard: pulumi.StringMap{"cpu": pulumi.String("4")}},
		}, pulumi.Provider(p))
		return err
	}
	s, err := auto.UpsertStackInlineSource(ctx, "dev", "kp", prog, auto.EnvVars(map[string]string{
		"PULUMI_BACKEND_URL": "file://" + dir, "PULUMI_CONFIG_PASSPHRASE": "x",
		"PATH": "/work/main/bin:" + os.Getenv("PATH"),
	}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Up(ctx, optup.ProgressStreams(os.Stdout))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary.ResourceChanges)
	if _, err := s.Destroy(ctx, optdestroy.ProgressStreams(os.Stdout)); err != nil {
		t.Fatal(err)
	}
}
