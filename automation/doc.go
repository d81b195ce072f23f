// Package automation is the deploy program's engine: it rolls stacks.Program out across
// the environments of an envset.Set in promotion order, through the Pulumi automation
// API, with gates between environments and typed events for the command line to render.
//
//	events := make(chan automation.Event)
//	go render(events)
//	res, err := automation.Rollout(ctx, automation.Options{
//		ProjectDir: ".",
//		Backend:    "file://" + stateDir,
//		Approve:    []string{"prod"},
//		Events:     events,
//	})
//
// Every stack gets a workspace of its own (selecting stacks in parallel on one workspace
// corrupts workspace.json). A rollout reads the real state of each stack from the
// backend, so running it again after a failure picks up where it stopped: environments
// already at the desired state update with no changes.
package automation
