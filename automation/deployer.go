package automation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/flotilla-io/flotilla/components/envset"
	"github.com/flotilla-io/flotilla/stacks"
)

// Project is the Pulumi project name of Flotilla's stacks.
const Project = "flotilla"

// Deployer runs plans of stack operations across a fleet: rollouts, resumes, retries,
// drift checks and destroys, with a fleet lock, a journal of every run and typed
// progress events. Build one with New.
type Deployer struct {
	o       options
	journal *journalStore
	lock    *fleetLock

	progOnce sync.Once
	progHash string
	progErr  error
}

type options struct {
	projectDir  string
	stateDir    string
	backend     string
	bin         string
	project     string
	program     pulumi.RunFunc
	set         *envset.Set
	env         map[string]string
	ops         StackOps
	health      HealthChecker
	resolver    PendingResolver
	validate    Validator
	fleetCheck  func(files map[string]string) error
	approver    Approver
	events      chan<- Event
	timeScale   float64
	soakChecks  int
	programHash string
	now         func() time.Time
	versions    VersionSource
	catalog     VersionCatalog
}

// Option configures a Deployer.
type Option func(*options)

// WithProjectDir sets the directory holding Pulumi.yaml and stacks/ (default ".").
func WithProjectDir(dir string) Option { return func(o *options) { o.projectDir = dir } }

// WithStateDir sets where journals, the fleet lock and workspaces live (default
// <project>/.flotilla).
func WithStateDir(dir string) Option { return func(o *options) { o.stateDir = dir } }

// WithBackend sets the Pulumi state backend URL: file://, s3://, gs://, azblob:// or
// https://api.pulumi.com (default file://<state dir>/state).
func WithBackend(url string) Option { return func(o *options) { o.backend = url } }

// WithBin sets the directory holding the pulumi CLI and the provider plugins (default
// <project>/bin).
func WithBin(dir string) Option { return func(o *options) { o.bin = dir } }

// WithProgram sets the program every stack runs and its Pulumi project name (default
// stacks.Program in project "flotilla").
func WithProgram(project string, program pulumi.RunFunc) Option {
	return func(o *options) { o.project, o.program = project, program }
}

// WithEnvironments sets the environment set (default <project>/stacks/environments.yaml).
func WithEnvironments(set envset.Set) Option { return func(o *options) { o.set = &set } }

// WithEnv adds variables to the Pulumi CLI's environment (credentials, FLEETSIM_HOME).
func WithEnv(env map[string]string) Option {
	return func(o *options) {
		for k, v := range env {
			o.env[k] = v
		}
	}
}

// WithStackOps replaces the Pulumi automation API, e.g. with automationtest.Fake.
func WithStackOps(ops StackOps) Option { return func(o *options) { o.ops = ops } }

// WithHealth sets the health checker (default: each cluster's Kubernetes API, through
// the kubeconfigs in the stack's outputs).
func WithHealth(h HealthChecker) Option { return func(o *options) { o.health = h } }

// WithPendingResolver sets how resume finds pending creates in the cloud.
func WithPendingResolver(r PendingResolver) Option { return func(o *options) { o.resolver = r } }

// WithValidator sets the pre-flight check of each stack (default: the stack file and
// the program run under the SDK's mock monitor).
func WithValidator(v Validator) Option { return func(o *options) { o.validate = v } }

// WithApprover asks for approvals interactively; without one, an approval not given in
// the request refuses the run before anything changes.
func WithApprover(a Approver) Option { return func(o *options) { o.approver = a } }

// WithEvents sends progress events to ch. Sending never blocks past cancellation of
// the run's context; the Deployer never closes ch.
func WithEvents(ch chan<- Event) Option { return func(o *options) { o.events = ch } }

// WithTimeScale divides soak times: the simulator's simulated seconds per real second.
func WithTimeScale(scale float64) Option { return func(o *options) { o.timeScale = scale } }

// WithProgramHash fixes the hash of the program build that the journal records
// (default: the hash of this executable).
func WithProgramHash(h string) Option { return func(o *options) { o.programHash = h } }

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// Approver asks whether promotion into env may go ahead.
type Approver func(ctx context.Context, env string, summary string) (bool, error)

// Validator checks one stack before anything changes: its stack file, and its program.
type Validator func(ctx context.Context, s StackRef, stackFile string) error

// New builds a Deployer. Without WithStackOps it drives the Pulumi automation API with
// the CLI in the bin directory.
func New(opts ...Option) (*Deployer, error) {
	o := options{projectDir: ".", env: map[string]string{}, now: time.Now, soakChecks: 6}
	for _, opt := range opts {
		opt(&o)
	}
	abs, err := filepath.Abs(o.projectDir)
	if err != nil {
		return nil, err
	}
	o.projectDir = abs
	if o.stateDir == "" {
		o.stateDir = filepath.Join(o.projectDir, ".flotilla")
	}
	if o.backend == "" {
		o.backend = "file://" + filepath.Join(o.stateDir, "state")
	}
	if o.bin == "" {
		o.bin = filepath.Join(o.projectDir, "bin")
	}
	if o.program == nil {
		o.project, o.program = Project, stacks.Program
	}
	if o.set == nil {
		set, err := loadSet(o.projectDir)
		if err != nil {
			return nil, &InputError{Err: err}
		}
		o.set = &set
	}
	if o.ops == nil {
		o.ops = NewPulumiOps(PulumiOpsOptions{
			ProjectDir: o.projectDir, WorkDir: filepath.Join(o.stateDir, "workspaces"),
			Bin: o.bin, Backend: o.backend, Project: o.project, Program: o.program, Env: o.env,
		})
	}
	if o.health == nil {
		o.health = NewKubeHealth()
	}
	if o.versions == nil {
		o.versions = NewKubeVersions(nil)
	}
	if o.validate == nil {
		o.validate = StackValidator(o.project, o.program)
		o.fleetCheck = CheckEnvironmentNetworks
	}
	return &Deployer{o: o, journal: &journalStore{dir: o.stateDir}, lock: newFleetLock(o.stateDir)}, nil
}

// loadSet reads stacks/environments.yaml under the project, else the set built into
// the program.
func loadSet(projectDir string) (envset.Set, error) {
	path := filepath.Join(projectDir, "stacks", "environments.yaml")
	if _, err := os.Stat(path); err == nil {
		return envset.Load(path)
	}
	return stacks.Environments()
}

// Environments returns the environment set the Deployer runs.
func (d *Deployer) Environments() envset.Set { return *d.o.set }

// Backend returns the state backend URL.
func (d *Deployer) Backend() string { return d.o.backend }

// StateDir returns where journals and the fleet lock live.
func (d *Deployer) StateDir() string { return d.o.stateDir }

// StackFile returns the path of a stack's file.
func (d *Deployer) StackFile(stack string) string {
	return filepath.Join(d.o.projectDir, "stacks", "Pulumi."+stack+".yaml")
}

// emit sends an event unless the context is done.
func (d *Deployer) emit(ctx context.Context, e Event) {
	if d.o.events == nil {
		return
	}
	select {
	case d.o.events <- e:
	case <-ctx.Done():
	}
}

func (d *Deployer) at() At { return At{Time: d.o.now()} }

// programHash hashes the program build: the executable the program runs in.
func (d *Deployer) programHash() (string, error) {
	if d.o.programHash != "" {
		return d.o.programHash, nil
	}
	d.progOnce.Do(func() {
		exe, err := os.Executable()
		if err != nil {
			d.progErr = err
			return
		}
		d.progHash, d.progErr = hashFile(exe)
	})
	return d.progHash, d.progErr
}

// inputs returns what a stack's update depends on now.
func (d *Deployer) inputs(stack string) (Inputs, error) {
	prog, err := d.programHash()
	if err != nil {
		return Inputs{}, fmt.Errorf("hashing the program build: %w", err)
	}
	file, err := hashFile(d.StackFile(stack))
	if err != nil {
		return Inputs{}, err
	}
	return Inputs{StackFile: file, Program: prog}, nil
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
