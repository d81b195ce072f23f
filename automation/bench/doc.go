// Package bench measures the deploy program on the local simulator with the real Pulumi
// CLI: a rollout of nine stacks, three per environment, against its critical path, and
// a no-change rollout of the same stacks against one bare no-change `pulumi up`.
//
//	make bench   # or: go test -run '^$' -bench . ./automation/bench/
package bench
