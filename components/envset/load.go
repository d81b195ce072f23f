package envset

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The keys an environments file may use; anything else is a mistake worth reporting.
var (
	fileKeys        = []string{"environments"}
	environmentKeys = []string{"name", "requiresApproval", "protected", "soak", "maxConcurrency", "maxFailures", "account", "accounts", "stacks", "waves", "maintenanceWindow"}
	windowKeys      = []string{"days", "start", "duration"}
)

// Load reads a Set from a YAML file and validates it. Durations are Go duration
// strings ("10m", "1h30m"); unknown fields are errors that name the field and the file:
//
//	environments:
//	  - name: dev
//	    maxConcurrency: 4
//	    account: "111111111111"
//	  - name: prod
//	    requiresApproval: true
//	    protected: true
//	    soak: 30m
//	    maxConcurrency: 1
//	    maxFailures: 0
//	    account: "222222222222"
//	    waves: [[prod-canary], [prod-east, prod-eu]]
//	    maintenanceWindow: {days: [sat, sun], start: "02:00", duration: 4h}
//
// An environment lists its stacks in waves, or as a plain "stacks" list (one wave); with
// neither it has one stack named after it. A maintenanceWindow (UTC) is when upgrade
// steps may start: on the listed days (mon … sun; every day without days), from start
// ("HH:MM") for duration (at most 24h, past midnight if need be). Without one, any time.
func Load(path string) (Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Set{}, fmt.Errorf("environment set: %w", err)
	}
	set, err := parse(data)
	if err != nil {
		return Set{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := set.Validate(); err != nil {
		return Set{}, fmt.Errorf("%s: %w", path, err)
	}
	return set, nil
}

// parse decodes an environments file, reporting every problem it finds at once.
func parse(data []byte) (Set, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Set{}, err
	}
	if len(doc.Content) == 0 {
		return Set{}, nil // an empty file is an empty set, which Validate refuses
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return Set{}, fmt.Errorf("line %d: expected a mapping with an \"environments\" list", root.Line)
	}

	var set Set
	var problems []error
	for i := 0; i+1 < len(root.Content); i += 2 {
		key, value := root.Content[i], root.Content[i+1]
		if key.Value != "environments" {
			problems = append(problems, unknownField(key, "", fileKeys))
			continue
		}
		if value.Kind != yaml.SequenceNode {
			problems = append(problems, fmt.Errorf("line %d: environments must be a list", value.Line))
			continue
		}
		for j, item := range value.Content {
			env, errs := parseEnvironment(item, j)
			set.Environments = append(set.Environments, env)
			problems = append(problems, errs...)
		}
	}
	return set, errors.Join(problems...)
}

func parseEnvironment(node *yaml.Node, index int) (Environment, []error) {
	at := fmt.Sprintf("environments[%d]", index)
	if node.Kind != yaml.MappingNode {
		return Environment{}, []error{fmt.Errorf("line %d: %s must be a mapping", node.Line, at)}
	}
	var env Environment
	var problems []error
	hasWaves := false
	decode := func(key, value *yaml.Node, into any) bool {
		if err := value.Decode(into); err != nil {
			problems = append(problems, fmt.Errorf("line %d: %s.%s: %s", value.Line, at, key.Value, decodeMessage(err)))
			return false
		}
		return true
	}
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, value := node.Content[i], node.Content[i+1]
		switch key.Value {
		case "name":
			decode(key, value, &env.Name)
		case "requiresApproval":
			decode(key, value, &env.RequiresApproval)
		case "protected":
			decode(key, value, &env.Protected)
		case "maxConcurrency":
			decode(key, value, &env.MaxConcurrency)
		case "account":
			decode(key, value, &env.Account)
		case "accounts":
			decode(key, value, &env.Accounts)
		case "maxFailures":
			decode(key, value, &env.MaxFailures)
		case "stacks":
			if hasWaves {
				problems = append(problems, fmt.Errorf("line %d: %s: give either stacks or waves, not both", key.Line, at))
				continue
			}
			var list []string
			if decode(key, value, &list) {
				env.Waves = [][]string{list}
				hasWaves = true
			}
		case "waves":
			if hasWaves {
				problems = append(problems, fmt.Errorf("line %d: %s: give either stacks or waves, not both", key.Line, at))
				continue
			}
			var waves [][]string
			if decode(key, value, &waves) {
				env.Waves = waves
				hasWaves = true
			}
		case "soak":
			var s string
			if !decode(key, value, &s) {
				continue
			}
			d, err := time.ParseDuration(s)
			if err != nil {
				problems = append(problems, fmt.Errorf("line %d: %s.soak: %q is not a duration; write it like \"10m\" or \"1h30m\"", value.Line, at, s))
				continue
			}
			env.Soak = d
		case "maintenanceWindow":
			w, errs := parseWindow(value, at+".maintenanceWindow")
			env.MaintenanceWindow = w
			problems = append(problems, errs...)
		default:
			problems = append(problems, unknownField(key, at, environmentKeys))
		}
	}
	if env.Name != "" {
		for i, p := range problems {
			problems[i] = fmt.Errorf("environment %q: %w", env.Name, p)
		}
	}
	return env, problems
}

// parseWindow decodes an environment's maintenanceWindow, reporting every problem with
// its line.
func parseWindow(node *yaml.Node, at string) (*Window, []error) {
	if node.Kind != yaml.MappingNode {
		return nil, []error{fmt.Errorf("line %d: %s must be a mapping such as {days: [sat, sun], start: \"02:00\", duration: 4h}", node.Line, at)}
	}
	var problems []error
	var days []string
	var start, duration string
	hasDays := false
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, value := node.Content[i], node.Content[i+1]
		var into any
		switch key.Value {
		case "days":
			into, hasDays = &days, true
		case "start":
			into = &start
		case "duration":
			into = &duration
		default:
			problems = append(problems, unknownField(key, at, windowKeys))
			continue
		}
		if err := value.Decode(into); err != nil {
			problems = append(problems, fmt.Errorf("line %d: %s.%s: %s", value.Line, at, key.Value, decodeMessage(err)))
			if key.Value == "days" {
				hasDays = false // reported; do not also call it empty
			}
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	w, errs := newWindow(days, start, duration, hasDays)
	for _, e := range errs {
		problems = append(problems, fmt.Errorf("line %d: %s: %w", node.Line, at, e))
	}
	return w, problems
}

func unknownField(key *yaml.Node, at string, known []string) error {
	field := key.Value
	if at != "" {
		field = at + "." + key.Value
	}
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	return fmt.Errorf("line %d: unknown field %q (known fields: %s)", key.Line, field, strings.Join(sorted, ", "))
}

// decodeMessage trims yaml.v3's type errors to their one useful line.
func decodeMessage(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg := te.Errors[0]
		if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "line ") && i > 0 {
			msg = msg[i+2:]
		}
		return msg
	}
	return err.Error()
}
