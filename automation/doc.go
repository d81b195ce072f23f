// Package automation is the deploy program's engine. A Deployer rolls a program out over
// the stacks of an environment set: environments in promotion order, each environment's
// stacks in waves, with pre-flight, approval, preview-policy, health and soak gates, a
// failure budget, a fleet lock, and a journal of every run that resume and retry
// continue from.
//
//	d, err := automation.New(
//		automation.WithProjectDir("."),                        // Pulumi.yaml and stacks/
//		automation.WithBackend("s3://my-bucket/flotilla"),     // default file://.flotilla/state
//		automation.WithEvents(events),                         // typed progress
//	)
//	j, err := d.Rollout(ctx, automation.RolloutRequest{Approve: []string{"prod"}})
//	switch {
//	case automation.IsInputError(err):   // bad input, found before anything changed
//	case automation.IsGateRefused(err):  // approval or preview policy
//	case automation.IsLocked(err):       // another run holds the fleet lock
//	case automation.IsRunFailed(err):    // stacks failed; j.Failed() says which and why
//	}
//
// The layers, each replaceable:
//   - Plan: the environment set and a Selection turned into stages and waves, free of
//     how they are executed (Plan.Steps flattens it into dependent steps), so that
//     another executor can run the same plan.
//   - The local executor (executor.go): stages in order, waves in order, up to a
//     stage's MaxConcurrency stacks at once, journaled after every step.
//   - StackOps: preview, up, refresh, outputs and destroy. PulumiOps drives the
//     automation API, one workspace per stack (built by internal/workspace);
//     automationtest.Fake stands in for it in unit tests.
//   - HealthChecker: each cluster read fresh through its Kubernetes API (KubeHealth), or
//     on the simulator through automation/simcloud.
//
// A stack whose stack file, program build and state match its last successful update
// is skipped, so that a rollout with nothing to change costs less than one `pulumi up`.
package automation
