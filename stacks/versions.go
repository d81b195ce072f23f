package stacks

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/flotilla-io/flotilla/components/cluster"
)

// Versions are the Kubernetes minors one cluster of a stack runs: its control plane and
// its node pools (every pool of the cluster runs Nodes).
type Versions struct {
	ControlPlane string `json:"controlPlane"`
	Nodes        string `json:"nodes"`
}

// effectiveVersions resolves a cluster's versions the way the program does: the
// cluster's own keys, else the stack's; nodes default to the control plane's minor.
func effectiveVersions(stackVersion, stackNodes, clusterVersion, clusterNodes string) Versions {
	v := Versions{ControlPlane: clusterVersion, Nodes: clusterNodes}
	if v.ControlPlane == "" {
		v.ControlPlane = stackVersion
	}
	if v.Nodes == "" {
		v.Nodes = stackNodes
	}
	if v.Nodes == "" {
		v.Nodes = v.ControlPlane
	}
	return v
}

// Versions returns each cluster's effective versions, by the cluster's key in the stack
// file (its name, or <cloud>-<region>).
func (c Config) Versions() map[string]Versions {
	out := make(map[string]Versions, len(c.Clusters))
	for _, cl := range c.Clusters {
		out[cl.key()] = effectiveVersions(c.Version, c.NodeVersion, cl.Version, cl.NodeVersion)
	}
	return out
}

// ReadVersions reads and validates a stack file and returns each of its clusters'
// effective versions, by the cluster's key in the file (its name, or <cloud>-<region>).
func ReadVersions(path string) (map[string]Versions, error) {
	cfg, err := ReadStackFile(path)
	if err != nil {
		return nil, err
	}
	return cfg.Versions(), nil
}

// WriteVersions records new versions of some of a stack file's clusters, keyed by the
// cluster's key in the file (its name, or <cloud>-<region>). An empty ControlPlane keeps
// the cluster's current one; empty Nodes means the control plane's, as in the file.
// Clusters not in versions keep theirs.
//
// It rewrites only the version keys, in their minimal form: flotilla:version holds the
// control-plane minor most clusters run and a cluster's own version key only where it
// differs; flotilla:nodeVersion holds the node minor when every cluster's nodes run the
// same one and some lag their control plane, and otherwise a cluster's own nodeVersion
// key appears only where its nodes lag. Everything else in the file stays byte for
// byte: comments, key order, flow and block style, indentation, the encryption salt
// and every other key. The file is replaced atomically (a temporary file, then a
// rename), and not touched when nothing changes.
//
// A key that names no cluster of the file, a version that is not a MAJOR.MINOR minor
// and nodes newer than their control plane or older than their cloud allows are a
// *ConfigError, and nothing is written.
func WriteVersions(path string, versions map[string]Versions) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	f, err := parseVersionKeys(path, src)
	if err != nil {
		return err
	}
	want, err := f.apply(versions)
	if err != nil {
		return err
	}
	out, err := f.rewrite(want)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	// What was written must read back as what was asked for.
	check, err := parseVersionKeys(path, out)
	if err != nil {
		return fmt.Errorf("%s: rewriting the version keys left a file that does not parse: %w", path, err)
	}
	if got := check.effective(); !maps.Equal(got, want) {
		return fmt.Errorf("%s: rewriting the version keys gave %v, not %v", path, got, want)
	}
	if bytes.Equal(out, src) {
		return nil
	}
	return writeAtomic(path, out)
}

// versionFile is a stack file's YAML with its version keys located.
type versionFile struct {
	path     string
	src      []byte
	config   *yaml.Node // the config: mapping
	clusters []clusterNode
}

// clusterNode is one entry of flotilla:clusters.
type clusterNode struct {
	key   string
	cloud string
	node  *yaml.Node // the cluster's mapping
}

const (
	keyVersion      = Namespace + ":version"
	keyNodeVersion  = Namespace + ":nodeVersion"
	keyClusters     = Namespace + ":clusters"
	keyEnvironment  = Namespace + ":environment"
	clusterVersion  = "version"
	clusterNodeVers = "nodeVersion"
)

func parseVersionKeys(path string, src []byte) (*versionFile, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, &ConfigError{File: path, Problems: []string{err.Error()}}
	}
	fail := func(format string, a ...any) error {
		return &ConfigError{File: path, Problems: []string{fmt.Sprintf(format, a...)}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fail("not a stack file: no top-level mapping")
	}
	_, cfg := lookup(doc.Content[0], "config")
	if cfg == nil || cfg.Kind != yaml.MappingNode {
		return nil, fail("no config: mapping")
	}
	f := &versionFile{path: path, src: src, config: cfg}
	_, list := lookup(cfg, keyClusters)
	if list == nil || list.Kind != yaml.SequenceNode {
		return nil, fail("%s is not a list of clusters", keyClusters)
	}
	for i, item := range list.Content {
		if item.Kind != yaml.MappingNode {
			return nil, fail("%s[%d] is not a mapping", keyClusters, i)
		}
		cl := ClusterConfig{Name: scalar(item, "name"), Cloud: scalar(item, "cloud"), Region: scalar(item, "region")}
		f.clusters = append(f.clusters, clusterNode{key: cl.key(), cloud: cl.Cloud, node: item})
	}
	return f, nil
}

// effective is every cluster's versions as the file says them.
func (f *versionFile) effective() map[string]Versions {
	out := map[string]Versions{}
	for _, c := range f.clusters {
		out[c.key] = effectiveVersions(scalar(f.config, keyVersion), scalar(f.config, keyNodeVersion),
			scalar(c.node, clusterVersion), scalar(c.node, clusterNodeVers))
	}
	return out
}

// apply merges the requested versions over the file's, and checks them.
func (f *versionFile) apply(versions map[string]Versions) (map[string]Versions, error) {
	want := f.effective()
	var problems []string
	for _, key := range slices.Sorted(maps.Keys(versions)) {
		cur, ok := want[key]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: no cluster %q in this stack; its clusters are %s", keyClusters, key, strings.Join(f.keys(), ", ")))
			continue
		}
		v := versions[key]
		for _, s := range []struct{ what, value string }{{"control-plane version", v.ControlPlane}, {"node version", v.Nodes}} {
			if s.value != "" && !versionRE.MatchString(s.value) {
				problems = append(problems, fmt.Sprintf("cluster %q: %s %q is not a Kubernetes minor such as \"1.31\"", key, s.what, s.value))
			}
		}
		if v.ControlPlane != "" {
			cur.ControlPlane = v.ControlPlane
		}
		cur.Nodes = v.Nodes
		if cur.Nodes == "" {
			cur.Nodes = cur.ControlPlane
		}
		want[key] = cur
	}
	for _, c := range f.clusters {
		v := want[c.key]
		if v.ControlPlane == "" {
			problems = append(problems, fmt.Sprintf("cluster %q has no control-plane version: set %s", c.key, keyVersion))
			continue
		}
		if err := cluster.CheckNodeVersion(cluster.Cloud(c.cloud), v.ControlPlane, v.Nodes); err != nil {
			problems = append(problems, fmt.Sprintf("cluster %q: %v", c.key, err))
		}
	}
	if len(problems) > 0 {
		return nil, &ConfigError{File: f.path, Problems: problems}
	}
	return want, nil
}

func (f *versionFile) keys() []string {
	out := make([]string, len(f.clusters))
	for i, c := range f.clusters {
		out[i] = c.key
	}
	return out
}

// minimal is the version keys that say want with the fewest keys: the stack-level
// values ("" for a key left out) and each cluster's own.
func (f *versionFile) minimal(want map[string]Versions) (stackVersion, stackNodes string, own map[string]Versions) {
	count := map[string]int{}
	for _, v := range want {
		count[v.ControlPlane]++
	}
	current := scalar(f.config, keyVersion)
	for v, n := range count {
		best := count[stackVersion]
		switch {
		case stackVersion == "", n > best:
			stackVersion = v
		case n < best:
		case v == current, stackVersion != current && older(v, stackVersion):
			// A tie keeps the file's value, and otherwise goes to the oldest.
			stackVersion = v
		}
	}

	lagging, nodes := false, map[string]bool{}
	for _, v := range want {
		nodes[v.Nodes] = true
		lagging = lagging || v.Nodes != v.ControlPlane
	}
	if lagging && len(nodes) == 1 {
		for v := range nodes {
			stackNodes = v
		}
	}

	own = map[string]Versions{}
	for key, v := range want {
		var o Versions
		if v.ControlPlane != stackVersion {
			o.ControlPlane = v.ControlPlane
		}
		if stackNodes == "" && v.Nodes != v.ControlPlane {
			o.Nodes = v.Nodes
		}
		own[key] = o
	}
	return stackVersion, stackNodes, own
}

// older reports whether minor a is older than minor b.
func older(a, b string) bool {
	var aMajor, aMinor, bMajor, bMinor int
	_, errA := fmt.Sscanf(a, "%d.%d", &aMajor, &aMinor)
	_, errB := fmt.Sscanf(b, "%d.%d", &bMajor, &bMinor)
	if errA != nil || errB != nil {
		return a < b
	}
	return aMajor < bMajor || aMajor == bMajor && aMinor < bMinor
}

// rewrite edits the version keys of f's source into their minimal form for want.
func (f *versionFile) rewrite(want map[string]Versions) ([]byte, error) {
	if len(f.clusters) == 0 {
		return f.src, nil // no cluster runs anything to record
	}
	stackVersion, stackNodes, own := f.minimal(want)
	e := newTextEditor(f.src)
	// Keys before which a cluster's version keys never go, in the order the stacks
	// document them.
	clusterAnchors := []string{"name", "cloud", "region"}
	stackAnchors := []string{keyEnvironment}

	if err := e.setKeys(f.config, stackAnchors, []keyValue{{keyVersion, stackVersion}, {keyNodeVersion, stackNodes}}); err != nil {
		return nil, err
	}
	for _, c := range f.clusters {
		o := own[c.key]
		if err := e.setKeys(c.node, clusterAnchors, []keyValue{{clusterVersion, o.ControlPlane}, {clusterNodeVers, o.Nodes}}); err != nil {
			return nil, fmt.Errorf("cluster %q: %w", c.key, err)
		}
	}
	return e.apply()
}

// keyValue is a key of a mapping and the scalar it should hold; "" removes the key.
type keyValue struct{ key, value string }

// textEditor collects edits of a YAML source at the positions yaml.v3 reports, so that
// every byte it is not asked to change stays as it was.
type textEditor struct {
	src        []byte
	lineStarts []int
	newline    string
	edits      []textEdit
}

// textEdit replaces src[start:end] with text; an insertion has start == end. seq keeps
// insertions at one offset in the order they were made.
type textEdit struct {
	start, end, seq int
	text            string
}

func newTextEditor(src []byte) *textEditor {
	e := &textEditor{src: src, lineStarts: []int{0}, newline: "\n"}
	for i, b := range src {
		if b == '\n' {
			e.lineStarts = append(e.lineStarts, i+1)
		}
	}
	if bytes.Contains(src, []byte("\r\n")) {
		e.newline = "\r\n"
	}
	return e
}

func (e *textEditor) add(start, end int, text string) {
	e.edits = append(e.edits, textEdit{start: start, end: end, seq: len(e.edits), text: text})
}

// offset is the byte offset of yaml.v3's 1-based line and column (in characters).
func (e *textEditor) offset(n *yaml.Node) int {
	if n.Line < 1 || n.Line > len(e.lineStarts) {
		return len(e.src)
	}
	off := e.lineStarts[n.Line-1]
	for col := 1; col < n.Column && off < len(e.src); col++ {
		_, size := utf8.DecodeRune(e.src[off:])
		off += size
	}
	return off
}

// lineStart is the offset where the line holding off begins.
func (e *textEditor) lineStart(off int) int {
	i, _ := slices.BinarySearch(e.lineStarts, off+1)
	return e.lineStarts[i-1]
}

// nextLine is the offset of the line after the one holding off (the end of the source
// on the last line).
func (e *textEditor) nextLine(off int) int {
	if i := bytes.IndexByte(e.src[off:], '\n'); i >= 0 {
		return off + i + 1
	}
	return len(e.src)
}

// scalarEnd is the offset just past a single-line scalar's source text.
func (e *textEditor) scalarEnd(n *yaml.Node) (int, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, fmt.Errorf("line %d: expected a single value", n.Line)
	}
	start := e.offset(n)
	end := -1
	switch n.Style {
	case yaml.DoubleQuotedStyle:
		for i := start + 1; i < len(e.src); i++ {
			if e.src[i] == '\\' {
				i++
			} else if e.src[i] == '"' {
				end = i + 1
				break
			}
		}
	case yaml.SingleQuotedStyle:
		for i := start + 1; i < len(e.src); i++ {
			if e.src[i] == '\'' {
				if i+1 < len(e.src) && e.src[i+1] == '\'' {
					i++
					continue
				}
				end = i + 1
				break
			}
		}
	case 0:
		if start+len(n.Value) <= len(e.src) && string(e.src[start:start+len(n.Value)]) == n.Value {
			end = start + len(n.Value)
		}
	}
	if end < 0 || bytes.ContainsAny(e.src[start:end], "\r\n") {
		return 0, fmt.Errorf("line %d: %q is not a single-line value", n.Line, n.Value)
	}
	return end, nil
}

// quote renders a version as YAML: quoted, since a plain 1.30 reads as the number 1.3.
func quote(v string, style yaml.Style) string {
	if style == yaml.SingleQuotedStyle {
		return "'" + v + "'"
	}
	return `"` + v + `"`
}

// setKeys gives the scalar keys of mapping m the values in kvs, in order: replacing a
// key's value in place, removing a key whose value is "", and inserting a missing key
// after the last of the keys before it (kvs' own, then anchors) that stays.
func (e *textEditor) setKeys(m *yaml.Node, anchors []string, kvs []keyValue) error {
	stays := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		stays[m.Content[i].Value] = true
	}
	for _, kv := range kvs {
		stays[kv.key] = false
	}
	for _, kv := range kvs {
		k, v := lookup(m, kv.key)
		switch {
		case k != nil && kv.value == "":
			if err := e.remove(m, k, v); err != nil {
				return err
			}
		case k != nil:
			stays[kv.key] = true
			end, err := e.scalarEnd(v)
			if err != nil {
				return fmt.Errorf("%s: %w", kv.key, err)
			}
			if v.Value != kv.value || v.Style != yaml.DoubleQuotedStyle && v.Style != yaml.SingleQuotedStyle {
				e.add(e.offset(v), end, quote(kv.value, v.Style))
			}
		}
	}
	var before []string
	before = append(before, anchors...)
	for _, kv := range kvs {
		if k, _ := lookup(m, kv.key); k == nil && kv.value != "" {
			if err := e.insert(m, before, stays, kv); err != nil {
				return err
			}
		}
		before = append(before, kv.key)
	}
	return nil
}

// remove deletes a key and its single-line value from mapping m.
func (e *textEditor) remove(m, k, v *yaml.Node) error {
	start := e.offset(k)
	end, err := e.scalarEnd(v)
	if err != nil {
		return fmt.Errorf("%s: %w", k.Value, err)
	}
	if m.Style&yaml.FlowStyle != 0 {
		// Take the comma after the pair, or before it when the pair is the last.
		rest := end
		for rest < len(e.src) && (e.src[rest] == ' ' || e.src[rest] == '\t') {
			rest++
		}
		if rest < len(e.src) && e.src[rest] == ',' {
			rest++
			for rest < len(e.src) && (e.src[rest] == ' ' || e.src[rest] == '\t') {
				rest++
			}
			e.add(start, rest, "")
			return nil
		}
		lead := start
		for lead > 0 && (e.src[lead-1] == ' ' || e.src[lead-1] == '\t') {
			lead--
		}
		if lead > 0 && e.src[lead-1] == ',' {
			start = lead - 1
		}
		e.add(start, end, "")
		return nil
	}
	line := e.lineStart(start)
	if strings.TrimLeft(string(e.src[line:start]), " \t") == "" {
		e.add(line, e.nextLine(end), "")
		return nil
	}
	// The first key of a list item ("- version: ..."): the next key takes its place.
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i] == k && i+2 < len(m.Content) {
			e.add(start, e.offset(m.Content[i+2]), "")
			return nil
		}
	}
	e.add(start, end, "{}")
	return nil
}

// insert adds kv to mapping m after the last key of before that stays and has a
// single-line value: on the next line at the same indentation in a block mapping, after
// that pair in a flow mapping. Without one, it goes after the mapping's first key.
func (e *textEditor) insert(m *yaml.Node, before []string, stays map[string]bool, kv keyValue) error {
	var anchorK, anchorV *yaml.Node
	for i := len(before) - 1; i >= 0 && anchorK == nil; i-- {
		if !stays[before[i]] {
			continue
		}
		if k, v := lookup(m, before[i]); k != nil && v.Kind == yaml.ScalarNode && v.Line == k.Line {
			anchorK, anchorV = k, v
		}
	}
	if anchorK == nil {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if k, v := m.Content[i], m.Content[i+1]; stays[k.Value] && v.Kind == yaml.ScalarNode && v.Line == k.Line {
				anchorK, anchorV = k, v
				break
			}
		}
	}
	if anchorK == nil {
		return fmt.Errorf("line %d: no single-line key to put %s after", m.Line, kv.key)
	}
	end, err := e.scalarEnd(anchorV)
	if err != nil {
		return fmt.Errorf("%s: %w", anchorK.Value, err)
	}
	if m.Style&yaml.FlowStyle != 0 {
		e.add(end, end, ", "+kv.key+": "+quote(kv.value, 0))
		return nil
	}
	at := e.nextLine(end)
	text := strings.Repeat(" ", anchorK.Column-1) + kv.key + ": " + quote(kv.value, 0) + e.newline
	if at == len(e.src) && !bytes.HasSuffix(e.src, []byte("\n")) {
		text = e.newline + text
	}
	e.add(at, at, text)
	return nil
}

// apply returns the source with every edit made.
func (e *textEditor) apply() ([]byte, error) {
	edits := slices.Clone(e.edits)
	// At one offset, insertions go first, in the order they were made; a removal that
	// starts there follows them.
	slices.SortFunc(edits, func(a, b textEdit) int {
		if a.start != b.start {
			return a.start - b.start
		}
		if ai, bi := a.start == a.end, b.start == b.end; ai != bi {
			if ai {
				return -1
			}
			return 1
		}
		return a.seq - b.seq
	})
	var out bytes.Buffer
	at := 0
	for _, ed := range edits {
		if ed.start < at {
			return nil, errors.New("overlapping edits of the version keys")
		}
		out.Write(e.src[at:ed.start])
		out.WriteString(ed.text)
		at = ed.end
	}
	out.Write(e.src[at:])
	return out.Bytes(), nil
}

// lookup finds key in mapping m: its key and value nodes, or nils.
func lookup(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// scalar is the value of a scalar key of mapping m, or "".
func scalar(m *yaml.Node, key string) string {
	if _, v := lookup(m, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// writeAtomic replaces path with data through a temporary file in the same directory,
// keeping the file's mode.
func writeAtomic(path string, data []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing left to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), info.Mode().Perm()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
