package stacks

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Versions are the Kubernetes minors one cluster of a stack file runs: its control
// plane, and its node pools (every pool of a cluster runs the same minor).
type Versions struct {
	ControlPlane string `json:"controlPlane"`
	Nodes        string `json:"nodes"`
}

// ReadVersions returns each cluster's effective versions from a stack file, by the
// cluster's key (its name, or cloud-region): a cluster's own version, else the stack's
// flotilla:version; a cluster's own nodeVersion, else the stack's flotilla:nodeVersion,
// else its control plane's.
func ReadVersions(path string) (map[string]Versions, error) {
	f, err := parseVersionFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]Versions{}
	for _, c := range f.clusters {
		out[c.key] = f.effective(c)
	}
	return out, nil
}

// WriteVersions rewrites the version keys of a stack file so that each cluster named in
// versions runs them, and leaves every other byte alone: comments, key order, flow
// style and the encryption salt. It writes the minimal form: the stack-level
// flotilla:version (and flotilla:nodeVersion) when every cluster agrees, a cluster's own
// version and nodeVersion only where it differs; a node version equal to the control
// plane's is not written. A cluster key the file does not have is an error. The file is
// replaced atomically.
func WriteVersions(path string, versions map[string]Versions) error {
	f, err := parseVersionFile(path)
	if err != nil {
		return err
	}
	want := map[string]Versions{}
	for _, c := range f.clusters {
		want[c.key] = f.effective(c)
	}
	var unknown []string
	for k, v := range versions {
		if _, ok := want[k]; !ok {
			unknown = append(unknown, k)
			continue
		}
		if v.Nodes == "" {
			v.Nodes = v.ControlPlane
		}
		want[k] = v
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("%s: no cluster %s (clusters: %s)", path, strings.Join(unknown, ", "), strings.Join(f.keys(), ", "))
	}
	if len(f.clusters) == 0 {
		return nil
	}

	var e editor
	// The control plane: stack level when every cluster agrees.
	stackCP := f.stackVersion.text()
	if cp, same := agree(f.clusters, func(c clusterEntry) string { return want[c.key].ControlPlane }); same {
		stackCP = cp
		e.set(f.configIndent, f.stackVersion, Namespace+":version", cp, f.versionAnchor())
		for _, c := range f.clusters {
			e.remove(c.version)
		}
	} else {
		for _, c := range f.clusters {
			if v := want[c.key].ControlPlane; v == stackCP {
				e.remove(c.version)
			} else {
				e.set(c.indent, c.version, "version", v, c.anchor)
			}
		}
	}
	// The nodes: nothing when each cluster's nodes run its control plane's minor, else
	// stack level when every cluster agrees, else per cluster.
	allDefault := true
	for _, c := range f.clusters {
		allDefault = allDefault && want[c.key].Nodes == want[c.key].ControlPlane
	}
	nodes, same := agree(f.clusters, func(c clusterEntry) string { return want[c.key].Nodes })
	switch {
	case allDefault:
		e.remove(f.stackNodeVersion)
		for _, c := range f.clusters {
			e.remove(c.nodeVersion)
		}
	case same:
		e.set(f.configIndent, f.stackNodeVersion, Namespace+":nodeVersion", nodes, f.versionAnchor())
		for _, c := range f.clusters {
			e.remove(c.nodeVersion)
		}
	default:
		e.remove(f.stackNodeVersion)
		for _, c := range f.clusters {
			if w := want[c.key]; w.Nodes == w.ControlPlane {
				e.remove(c.nodeVersion)
			} else {
				anchor := c.anchor
				if c.version != nil && !e.drop[c.version.line] {
					anchor = c.version.line
				}
				e.set(c.indent, c.nodeVersion, "nodeVersion", w.Nodes, anchor)
			}
		}
	}
	out := e.apply(f.lines)
	if bytes.Equal(out, f.data) {
		return nil
	}
	return writeAtomic(path, out)
}

// A versionFile is a stack file with the places of its version keys.
type versionFile struct {
	data             []byte
	lines            []string
	configIndent     int
	stackVersion     *keyValue
	stackNodeVersion *keyValue
	configFirst      int // the line of the config mapping's first key
	clusters         []clusterEntry
}

// keyValue is a `key: value` line of the file.
type keyValue struct {
	line  int // 0-based
	key   *yaml.Node
	value *yaml.Node
}

// text is the key's value; "" when the key is absent.
func (kv *keyValue) text() string {
	if kv == nil {
		return ""
	}
	return kv.value.Value
}

type clusterEntry struct {
	key         string
	indent      int // the column of the entry's keys
	anchor      int // the line after which new keys go
	version     *keyValue
	nodeVersion *keyValue
}

func (f *versionFile) keys() []string {
	out := make([]string, 0, len(f.clusters))
	for _, c := range f.clusters {
		out = append(out, c.key)
	}
	return out
}

// versionAnchor is the line after which a new stack-level version key goes.
func (f *versionFile) versionAnchor() int {
	if f.stackVersion != nil {
		return f.stackVersion.line
	}
	return f.configFirst
}

func (f *versionFile) effective(c clusterEntry) Versions {
	v := Versions{ControlPlane: f.stackVersion.text()}
	if c.version != nil {
		v.ControlPlane = c.version.value.Value
	}
	v.Nodes = v.ControlPlane
	if f.stackNodeVersion != nil {
		v.Nodes = f.stackNodeVersion.value.Value
	}
	if c.nodeVersion != nil {
		v.Nodes = c.nodeVersion.value.Value
	}
	return v
}

func parseVersionFile(path string) (*versionFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &ConfigError{File: path, Problems: []string{err.Error()}}
	}
	f := &versionFile{data: data, lines: strings.SplitAfter(string(data), "\n")}
	if len(doc.Content) == 0 {
		return nil, &ConfigError{File: path, Problems: []string{"the file is empty"}}
	}
	cfg := mapValue(doc.Content[0], "config")
	if cfg == nil || cfg.Kind != yaml.MappingNode || cfg.Style&yaml.FlowStyle != 0 || len(cfg.Content) == 0 {
		return nil, &ConfigError{File: path, Problems: []string{"no config: mapping in block style"}}
	}
	f.configIndent = cfg.Content[0].Column - 1
	f.configFirst = cfg.Content[0].Line - 1
	f.stackVersion = pair(cfg, Namespace+":version")
	f.stackNodeVersion = pair(cfg, Namespace+":nodeVersion")
	clusters := mapValue(cfg, Namespace+":clusters")
	if clusters == nil {
		return f, nil
	}
	if clusters.Kind != yaml.SequenceNode || clusters.Style&yaml.FlowStyle != 0 {
		return nil, &ConfigError{File: path, Problems: []string{Namespace + ":clusters: a list in block style is needed to rewrite versions"}}
	}
	for i, item := range clusters.Content {
		if item.Kind != yaml.MappingNode || item.Style&yaml.FlowStyle != 0 || len(item.Content) == 0 {
			return nil, &ConfigError{File: path, Problems: []string{fmt.Sprintf("%s:clusters[%d]: a mapping in block style is needed to rewrite versions", Namespace, i)}}
		}
		c := clusterEntry{indent: item.Content[0].Column - 1, anchor: item.Content[0].Line - 1}
		name, cloud, region := scalar(item, "name"), scalar(item, "cloud"), scalar(item, "region")
		c.key = name
		if c.key == "" {
			c.key = cloud + "-" + region
		}
		c.version = pair(item, "version")
		c.nodeVersion = pair(item, "nodeVersion")
		for _, kv := range []*keyValue{c.version, c.nodeVersion} {
			if kv != nil && kv.value.Kind != yaml.ScalarNode {
				return nil, &ConfigError{File: path, Problems: []string{fmt.Sprintf("%s:clusters[%d].%s: not a version", Namespace, i, kv.key.Value)}}
			}
		}
		f.clusters = append(f.clusters, c)
	}
	return f, nil
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if kv := pair(m, key); kv != nil {
		return kv.value
	}
	return nil
}

func pair(m *yaml.Node, key string) *keyValue {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return &keyValue{line: m.Content[i].Line - 1, key: m.Content[i], value: m.Content[i+1]}
		}
	}
	return nil
}

func scalar(m *yaml.Node, key string) string {
	if v := mapValue(m, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// agree returns the value every cluster has, and whether they all have it.
func agree(cs []clusterEntry, f func(clusterEntry) string) (string, bool) {
	v := f(cs[0])
	for _, c := range cs[1:] {
		if f(c) != v {
			return "", false
		}
	}
	return v, true
}

// editor collects line edits of a file and applies them at once.
type editor struct {
	replace map[int]valueEdit // line -> its new value
	drop    map[int]bool      // lines removed
	insert  map[int][]string  // line -> lines inserted after it
}

// valueEdit replaces the scalar that starts at column col (0-based) of a line.
type valueEdit struct {
	col   int
	value string
}

func (e *editor) init() {
	if e.replace == nil {
		e.replace, e.drop, e.insert = map[int]valueEdit{}, map[int]bool{}, map[int][]string{}
	}
}

// set gives key the value: in place where kv exists, else as a new line after anchor.
func (e *editor) set(indent int, kv *keyValue, key, value string, anchor int) {
	e.init()
	quoted := strconv.Quote(value)
	if kv != nil {
		if kv.value.Value != value {
			e.replace[kv.line] = valueEdit{col: kv.value.Column - 1, value: quoted}
		}
		return
	}
	e.insert[anchor] = append(e.insert[anchor], strings.Repeat(" ", indent)+key+": "+quoted+"\n")
}

func (e *editor) remove(kv *keyValue) {
	if kv == nil {
		return
	}
	e.init()
	e.drop[kv.line] = true
}

// apply returns the file's lines with the edits made. A replaced value keeps what
// follows it on its line (a comment).
func (e *editor) apply(lines []string) []byte {
	var b bytes.Buffer
	for i, l := range lines {
		switch {
		case e.drop[i]:
		case e.replace[i] != valueEdit{}:
			r := e.replace[i]
			b.WriteString(l[:r.col] + r.value + rest(l[r.col:]))
		default:
			b.WriteString(l)
		}
		for _, ins := range e.insert[i] {
			b.WriteString(ins)
		}
	}
	return b.Bytes()
}

// rest is what follows a scalar at the start of s: a comment and the line's end.
func rest(s string) string {
	if i := strings.Index(s, " #"); i >= 0 {
		return s[i:]
	}
	if strings.HasSuffix(s, "\n") {
		return "\n"
	}
	return ""
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if info, err := os.Stat(path); err == nil {
		_ = os.Chmod(tmp.Name(), info.Mode())
	}
	return os.Rename(tmp.Name(), path)
}
