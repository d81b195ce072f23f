//go:build tools

// Package kube pins the local Kubernetes control plane that backs every simulated
// cluster: etcd, kube-apiserver, kube-scheduler, kube-controller-manager and kwok.
// k8s.io/kubernetes replaces its staging modules with ./staging paths, which Go ignores
// in a dependency, so this module pins each of them to the published release instead.
package kube

import (
	_ "go.etcd.io/etcd/server/v3/etcdmain"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
