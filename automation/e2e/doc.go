// Package e2e holds the deploy program's end-to-end tests: the real Pulumi CLI from
// bin/, a file:// backend in a temporary directory and a fleetsim daemon of each test's
// own (internal/simtest), driving the shipped stacks through automation.Deployer and the
// flotilla binary. Each test asserts on the run's events, its journal and what the
// simulated cloud holds.
//
// Run them after `make` (and `make kube` for the one kube-mode test):
//
//	go test -count=1 ./automation/e2e/
//
// FLOTILLA_SOAK=1 (set by `make soak`) kills runs at many more points.
package e2e
