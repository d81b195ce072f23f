// Package kubeplane runs a real Kubernetes control plane behind each simulated cluster:
// etcd, kube-apiserver, kube-scheduler, kube-controller-manager and kwok, as local
// processes on free loopback ports, with kwok playing the nodes.
//
// A Manager implements simapi.Kube. Each plane lives under <home>/planes/<clusterID>/
// (etcd data, certificates, logs and a state file with ports and PIDs). Its processes run
// in sessions of their own, so they outlive a process that started them and was killed: a
// new Manager on the same home adopts the planes that are still healthy and restarts the
// others on their existing data. StopPlanes stops them all and keeps their data.
//
//	m := kubeplane.New(home, binDir)
//	plane, err := m.EnsurePlane(ctx, "eu-west-1-prod")
//	if err != nil {
//		return err
//	}
//	err = m.SyncNodes(ctx, "eu-west-1-prod", []simapi.Node{{
//		Name:     "prod-spot-0",
//		Labels:   map[string]string{"flotilla.io/pool": "spot"},
//		MilliCPU: 4000, MemoryBytes: 16 << 30, Pods: 110,
//	}})
//	// plane.Kubeconfig works with client-go, kubectl and the Pulumi Kubernetes provider.
//	...
//	err = m.DeletePlane(ctx, "eu-west-1-prod") // stops the processes, removes the data
//
// The binaries come from `make kube`, which builds them into bin/.
package kubeplane
