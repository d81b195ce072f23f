package automation

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/flotilla-io/flotilla/internal/pulumitest"
	"github.com/flotilla-io/flotilla/stacks"
)

// StackValidator is the default pre-flight check of a stack: its stack file read and
// validated as the program would (unknown keys, shapes, durations), its environment
// matched against the one it is listed under, then the program run under the SDK's mock
// monitor with the file's configuration, so that the components' own validation
// (sizes, ranges, versions, names) runs before anything changes.
func StackValidator(project string, program pulumi.RunFunc) Validator {
	return func(ctx context.Context, s StackRef, file string) error {
		cfg, err := stacks.ReadStackFile(file)
		if err != nil {
			return err
		}
		if cfg.Environment != s.Environment {
			return fmt.Errorf("%s: flotilla:environment is %q, but stacks/environments.yaml lists stack %q under %q",
				file, cfg.Environment, s.Stack, s.Environment)
		}
		values, err := stacks.ReadStackValues(file)
		if err != nil {
			return err
		}
		m := pulumitest.New().FakeClouds()
		if err := m.RunWithConfig(s.Stack, values, program); err != nil {
			return fmt.Errorf("%s: the program refuses this configuration: %s", file, strings.TrimSpace(err.Error()))
		}
		return nil
	}
}
