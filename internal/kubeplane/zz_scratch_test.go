package kubeplane

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestScratchKeep(t *testing.T) {
	m := New("/tmp/kp-scratch", binDir(t))
	t0 := time.Now()
	p, err := m.EnsurePlane(context.Background(), "scratch")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("started in %v", time.Since(t0))
	os.WriteFile("/tmp/kp-scratch/kubeconfig", []byte(p.Kubeconfig), 0o600)
	if err := m.SyncNodes(context.Background(), "scratch", poolNodes("general", 3, nil, 4000)); err != nil {
		t.Fatal(err)
	}
}
