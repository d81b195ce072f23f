package simcloud

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/flotilla-io/flotilla/automation"
)

// KubeSetting is the stack configuration key that runs a stack's simulated clusters
// lite ("off") or in kube mode.
const KubeSetting = "fleetsim:kube"

// LiteStacks runs the previews and updates of ops with the stack config fleetsim:kube
// "off", for a deploy program that drives a simulator running lite (a daemon started
// with FLEETSIM_KUBE=off): the stacks' programs then build nothing on their clusters'
// Kubernetes APIs, which a lite daemon does not have. A stack file that sets
// fleetsim:kube itself keeps its own setting. Each operation runs on a copy of the
// stack file written under dir; the project's stack files are never changed.
//
// Over clusters that have a control plane (a fleet deployed in kube mode) the fleetsim
// provider refuses the lite run, before anything is deleted; a kube-mode run over
// clusters created lite gives them their control planes.
func LiteStacks(ops automation.StackOps, projectDir, dir string) automation.StackOps {
	l := &liteStacks{ops: ops, projectDir: projectDir, dir: dir}
	if states, ok := ops.(automation.StackStates); ok {
		return &liteStackStates{liteStacks: l, StackStates: states}
	}
	return l
}

type liteStacks struct {
	ops             automation.StackOps
	projectDir, dir string
}

type liteStackStates struct {
	*liteStacks
	automation.StackStates
}

// Preview runs the preview on the stack file with fleetsim:kube "off".
func (l *liteStacks) Preview(ctx context.Context, s automation.StackRef, o automation.OpOptions) (automation.OpResult, error) {
	return l.lite(s, &o, func() (automation.OpResult, error) { return l.ops.Preview(ctx, s, o) })
}

// Up runs the update on the stack file with fleetsim:kube "off".
func (l *liteStacks) Up(ctx context.Context, s automation.StackRef, o automation.OpOptions) (automation.OpResult, error) {
	return l.lite(s, &o, func() (automation.OpResult, error) { return l.ops.Up(ctx, s, o) })
}

// Refresh runs no program: it reads the clouds, in either mode.
func (l *liteStacks) Refresh(ctx context.Context, s automation.StackRef, o automation.OpOptions) (automation.OpResult, error) {
	return l.ops.Refresh(ctx, s, o)
}

// Outputs reads the stack's outputs.
func (l *liteStacks) Outputs(ctx context.Context, s automation.StackRef) (automation.Outputs, error) {
	return l.ops.Outputs(ctx, s)
}

// Destroy runs no program: it deletes what the state holds, in either mode.
func (l *liteStacks) Destroy(ctx context.Context, s automation.StackRef, o automation.OpOptions) (automation.OpResult, error) {
	return l.ops.Destroy(ctx, s, o)
}

// lite points o at a lite copy of the operation's stack file for the time of op.
func (l *liteStacks) lite(s automation.StackRef, o *automation.OpOptions, op func() (automation.OpResult, error)) (automation.OpResult, error) {
	src := o.StackFile
	if src == "" {
		src = filepath.Join(l.projectDir, "stacks", "Pulumi."+s.Stack+".yaml")
	}
	file, err := l.liteFile(s.Stack, src)
	if err != nil {
		return automation.OpResult{}, fmt.Errorf("%s: running lite: %w", s.Stack, err)
	}
	defer os.Remove(file)
	o.StackFile = file
	return op()
}

// liteFile writes a copy of the stack file src with fleetsim:kube "off" (unless src sets
// it) under l.dir, and returns its path.
func (l *liteStacks) liteFile(stack, src string) (string, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	out, err := WithLiteConfig(data)
	if err != nil {
		return "", fmt.Errorf("%s: %w", src, err)
	}
	if err := os.MkdirAll(l.dir, 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(l.dir, "Pulumi."+stack+".*.yaml")
	if err != nil {
		return "", err
	}
	_, werr := f.Write(out)
	if err := errors.Join(werr, f.Close()); err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// WithLiteConfig returns the stack file data with the config fleetsim:kube "off" added,
// or unchanged when it sets fleetsim:kube already.
func WithLiteConfig(data []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 { // an empty file
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("a stack file is a YAML map")
	}
	root := doc.Content[0]
	var config *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "config" {
			config = root.Content[i+1]
		}
	}
	if config == nil || config.Kind == yaml.ScalarNode && config.Tag == "!!null" {
		if config == nil {
			config = &yaml.Node{}
			root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "config"}, config)
		}
		*config = yaml.Node{Kind: yaml.MappingNode}
	}
	if config.Kind != yaml.MappingNode {
		return nil, errors.New("its config is not a map")
	}
	for i := 0; i+1 < len(config.Content); i += 2 {
		if config.Content[i].Value == KubeSetting {
			return data, nil
		}
	}
	config.Content = append(config.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Value: KubeSetting},
		&yaml.Node{Kind: yaml.ScalarNode, Value: "off", Style: yaml.DoubleQuotedStyle})
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
