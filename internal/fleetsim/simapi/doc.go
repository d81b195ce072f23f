// Package simapi holds the types the fleetsim daemon shares with what runs behind it:
// the Nodes of a simulated cluster, how to reach its Kubernetes API, and the Kube
// interface that real local control planes (internal/kubeplane) implement.
package simapi
