// Package taggable finds the resource types of the pinned Pulumi SDKs that accept cost
// tags, by reading the SDKs' own Go sources in the module cache.
//
// A resource is taggable when its constructor's Args struct has the field one of its
// SDK's rules names, with the rule's type: AWS and Azure `Tags`, GCP `Labels` (or
// `ResourceLabels` where that is the resource's only label map), Kubernetes `Metadata`
// of type ObjectMeta. The type check matters: GCP compute instances have network `Tags`
// (a list), AWS Auto Scaling groups have `Tags` as a list of structs, Kubernetes lists
// have a ListMeta without labels, and Kubernetes patches only amend objects someone
// else owns. None of those gets cost tags.
//
//	table, err := taggable.Load(ctx, ".")
//	src, err := table.Render("costtags", "taggableTypes")
package taggable

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
)

const (
	pulumiPkg = "github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	metaV1Pkg = "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
)

// Rule names the Args field of a resource that holds its cost tags.
type Rule struct {
	// Field is the Args struct field, e.g. "Tags".
	Field string
	// Type is the field's type, qualified by import path, e.g.
	// "github.com/pulumi/pulumi/sdk/v3/go/pulumi.StringMapInput".
	Type string
	// Under is the path below the field's property where the tags go ("labels" inside
	// Kubernetes metadata); empty when the field is the tag map itself.
	Under string
}

// SDK is a family of modules and the rules that find its taggable resources.
type SDK struct {
	// Modules is a module path or a `go list -m` pattern; only modules in the build
	// list of the main module match.
	Modules string
	// Rules are tried in order; the first whose field and type a resource's Args have decides.
	Rules []Rule
}

// SDKs are the pinned Pulumi SDKs whose resources Flotilla tags.
var SDKs = []SDK{
	{Modules: "github.com/pulumi/pulumi-aws/sdk/v6", Rules: []Rule{
		{Field: "Tags", Type: pulumiPkg + ".StringMapInput"},
	}},
	{Modules: "github.com/pulumi/pulumi-gcp/sdk/v7", Rules: []Rule{
		{Field: "Labels", Type: pulumiPkg + ".StringMapInput"},
		{Field: "ResourceLabels", Type: pulumiPkg + ".StringMapInput"},
	}},
	{Modules: "github.com/pulumi/pulumi-azure-native-sdk/...", Rules: []Rule{
		{Field: "Tags", Type: pulumiPkg + ".StringMapInput"},
	}},
	{Modules: "github.com/pulumi/pulumi-kubernetes/sdk/v4", Rules: []Rule{
		{Field: "Metadata", Type: metaV1Pkg + ".ObjectMetaPtrInput", Under: "labels"},
		{Field: "Metadata", Type: metaV1Pkg + ".ObjectMetaInput", Under: "labels"},
	}},
}

// Module is one scanned module, as `go list -m` reports it.
type Module struct {
	Path    string
	Version string
	Dir     string
}

// Entry is one taggable resource type and the property path that holds its tags.
type Entry struct {
	Token    string // e.g. "aws:ec2/vpc:Vpc"
	Property string // e.g. "tags", "labels", "metadata.labels"
}

// Table is the result of scanning every SDK.
type Table struct {
	Modules []Module // sorted by path
	Entries []Entry  // sorted by token
}

// Load resolves SDKs against the main module found from dir and scans each module.
func Load(ctx context.Context, dir string) (Table, error) {
	var t Table
	for _, sdk := range SDKs {
		mods, err := ListModules(ctx, dir, sdk.Modules)
		if err != nil {
			return Table{}, err
		}
		for _, m := range mods {
			entries, err := ScanDir(m.Dir, sdk.Rules)
			if err != nil {
				return Table{}, fmt.Errorf("%s@%s: %w", m.Path, m.Version, err)
			}
			t.Modules = append(t.Modules, m)
			t.Entries = append(t.Entries, entries...)
		}
	}
	sort.Slice(t.Modules, func(i, j int) bool { return t.Modules[i].Path < t.Modules[j].Path })
	entries, err := sortEntries(t.Entries)
	if err != nil {
		return Table{}, err
	}
	t.Entries = entries
	return t, nil
}

// ListModules runs `go list -m -json pattern` in dir and returns the matching modules,
// downloading any that a build has not yet put in the module cache.
func ListModules(ctx context.Context, dir, pattern string) ([]Module, error) {
	mods, err := goJSON(ctx, dir, "list", "-m", "-json", pattern)
	if err != nil {
		return nil, err
	}
	if len(mods) == 0 {
		return nil, fmt.Errorf("go list -m %s: no module in the build list matches; is it in go.mod?", pattern)
	}
	for i, m := range mods {
		if m.Dir != "" {
			continue
		}
		got, err := goJSON(ctx, dir, "mod", "download", "-json", m.Path+"@"+m.Version)
		if err != nil {
			return nil, err
		}
		if len(got) != 1 || got[0].Dir == "" {
			return nil, fmt.Errorf("go mod download %s@%s: no directory in the module cache", m.Path, m.Version)
		}
		mods[i].Dir = got[0].Dir
	}
	return mods, nil
}

// goJSON runs a go command that prints a stream of JSON modules.
func goJSON(ctx context.Context, dir string, args ...string) ([]Module, error) {
	cmd := exec.CommandContext(ctx, goTool(), args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	var mods []Module
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var m Module
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
		}
		mods = append(mods, m)
	}
	return mods, nil
}

// goTool is the go command of the running toolchain when it can be found, so that the
// scan sees the same module cache as the build.
func goTool() string {
	if root := runtime.GOROOT(); root != "" { //nolint:staticcheck // the toolchain that built us is the one to ask
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}

// ScanDir scans every Go file under root for taggable resources.
func ScanDir(root string, rules []Rule) ([]Entry, error) {
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "internal") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	var (
		mu      sync.Mutex
		entries []Entry
		errs    []error
		wg      sync.WaitGroup
		next    = make(chan string)
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for path := range next {
				found, err := scanFile(path, rules)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				}
				entries = append(entries, found...)
				mu.Unlock()
			}
		})
	}
	for _, f := range files {
		next <- f
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return sortEntries(entries)
}

var registerCall = []byte("ctx.RegisterResource(")

// scanFile returns the taggable resources a file defines: a `NewR(ctx, name, args *RArgs,
// opts...) (*R, error)` constructor calling ctx.RegisterResource with a literal token,
// whose RArgs struct has a field one of the rules matches.
func scanFile(path string, rules []Rule) ([]Entry, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	// Most files (types, helpers) never register anything; skip parsing them.
	if !bytes.Contains(src, registerCall) {
		return nil, nil
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	imports := importsOf(f)
	structs := map[string]*ast.StructType{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			if st, ok := ts.Type.(*ast.StructType); ok {
				structs[ts.Name.Name] = st
			}
		}
	}

	var entries []Entry
	for _, decl := range f.Decls {
		fd, ok := decl.(*ast.FuncDecl)
		if !ok || fd.Recv != nil || fd.Body == nil || !strings.HasPrefix(fd.Name.Name, "New") {
			continue
		}
		res := strings.TrimPrefix(fd.Name.Name, "New")
		if !constructorShape(fd, res) {
			continue
		}
		tok, ok := registeredToken(fd.Body)
		if !ok || strings.HasPrefix(tok, "pulumi:providers:") {
			continue
		}
		resStruct, ok := structs[res]
		if !ok || !embeds(resStruct, "CustomResourceState") {
			continue
		}
		argsStruct, ok := structs[res+"Args"]
		if !ok {
			continue
		}
		for _, r := range rules {
			field := fieldNamed(argsStruct, r.Field)
			if field == nil || qualified(field.Type, imports) != r.Type {
				continue
			}
			prop, ok := pulumiTag(fieldNamed(resStruct, r.Field))
			if !ok {
				return nil, fmt.Errorf("%s: %s.%s has no pulumi tag", path, res, r.Field)
			}
			if r.Under != "" {
				prop += "." + r.Under
			}
			entries = append(entries, Entry{Token: tok, Property: prop})
			break
		}
	}
	return entries, nil
}

// constructorShape reports whether fd reads `func NewR(ctx *pulumi.Context, name string,
// args *RArgs, opts ...pulumi.ResourceOption) (*R, error)`.
func constructorShape(fd *ast.FuncDecl, res string) bool {
	params := fd.Type.Params.List
	var names []string
	var types []ast.Expr
	for _, p := range params {
		for _, n := range p.Names {
			names = append(names, n.Name)
			types = append(types, p.Type)
		}
	}
	if len(names) < 3 || names[2] != "args" {
		return false
	}
	star, ok := types[2].(*ast.StarExpr)
	if !ok {
		return false
	}
	if id, ok := star.X.(*ast.Ident); !ok || id.Name != res+"Args" {
		return false
	}
	results := fd.Type.Results
	if results == nil || len(results.List) != 2 {
		return false
	}
	star, ok = results.List[0].Type.(*ast.StarExpr)
	if !ok {
		return false
	}
	id, ok := star.X.(*ast.Ident)
	return ok && id.Name == res
}

// registeredToken returns the literal type token of the only ctx.RegisterResource call in body.
func registeredToken(body *ast.BlockStmt) (string, bool) {
	var toks []string
	ast.Inspect(body, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "RegisterResource" || len(call.Args) == 0 {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "ctx" {
			return true
		}
		lit, ok := call.Args[0].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		s, err := strconv.Unquote(lit.Value)
		if err == nil {
			toks = append(toks, s)
		}
		return true
	})
	if len(toks) != 1 {
		return "", false
	}
	return toks[0], true
}

func importsOf(f *ast.File) map[string]string {
	out := map[string]string{}
	for _, imp := range f.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			continue
		}
		name := p[strings.LastIndex(p, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		out[name] = p
	}
	return out
}

// qualified renders a field type with its package qualifier replaced by the import path.
func qualified(e ast.Expr, imports map[string]string) string {
	switch t := e.(type) {
	case *ast.SelectorExpr:
		if x, ok := t.X.(*ast.Ident); ok {
			if p, ok := imports[x.Name]; ok {
				return p + "." + t.Sel.Name
			}
			return x.Name + "." + t.Sel.Name
		}
	case *ast.Ident:
		return t.Name
	case *ast.StarExpr:
		return "*" + qualified(t.X, imports)
	}
	return fmt.Sprintf("%T", e)
}

func embeds(st *ast.StructType, name string) bool {
	for _, f := range st.Fields.List {
		if len(f.Names) != 0 {
			continue
		}
		if sel, ok := f.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == name {
			return true
		}
	}
	return false
}

func fieldNamed(st *ast.StructType, name string) *ast.Field {
	if st == nil {
		return nil
	}
	for _, f := range st.Fields.List {
		for _, n := range f.Names {
			if n.Name == name {
				return f
			}
		}
	}
	return nil
}

func pulumiTag(f *ast.Field) (string, bool) {
	if f == nil || f.Tag == nil {
		return "", false
	}
	raw, err := strconv.Unquote(f.Tag.Value)
	if err != nil {
		return "", false
	}
	tag, ok := reflect.StructTag(raw).Lookup("pulumi")
	if !ok {
		return "", false
	}
	name, _, _ := strings.Cut(tag, ",")
	return name, name != ""
}

// sortEntries sorts by token and drops exact duplicates; one token with two different
// properties is an error, since the transform could not know which to use.
func sortEntries(entries []Entry) ([]Entry, error) {
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].Token != entries[j].Token {
			return entries[i].Token < entries[j].Token
		}
		return entries[i].Property < entries[j].Property
	})
	out := entries[:0]
	var errs []error
	for i, e := range entries {
		if i > 0 && e.Token == entries[i-1].Token {
			if e.Property != entries[i-1].Property {
				errs = append(errs, fmt.Errorf("%s: tags in both %q and %q", e.Token, entries[i-1].Property, e.Property))
			}
			continue
		}
		out = append(out, e)
	}
	return out, errors.Join(errs...)
}

// Render writes the table as a gofmt-ed Go file of package pkg declaring
// `var <name> = map[string]string{token: property}`.
func (t Table) Render(pkg, name string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("// Code generated by internal/gentaggable from the pinned Pulumi SDKs; DO NOT EDIT.\n\n")
	fmt.Fprintf(&b, "package %s\n\n", pkg)
	fmt.Fprintf(&b, "// %s maps each resource type that accepts cost tags to the property that holds them.\n", name)
	b.WriteString("// It lists every resource of these modules whose Args carry a tag map:\n//\n")
	for _, m := range t.Modules {
		fmt.Fprintf(&b, "//   - %s %s\n", m.Path, m.Version)
	}
	fmt.Fprintf(&b, "var %s = map[string]string{\n", name)
	for _, e := range t.Entries {
		fmt.Fprintf(&b, "\t%q: %q,\n", e.Token, e.Property)
	}
	b.WriteString("}\n")
	return format.Source(b.Bytes())
}
