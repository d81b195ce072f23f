package taggable

import (
	"context"
	"go/format"
	"go/parser"
	"go/token"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testRules = []Rule{
	{Field: "Tags", Type: pulumiPkg + ".StringMapInput"},
	{Field: "Labels", Type: pulumiPkg + ".StringMapInput"},
	{Field: "ResourceLabels", Type: pulumiPkg + ".StringMapInput"},
	{Field: "Metadata", Type: metaV1Pkg + ".ObjectMetaPtrInput", Under: "labels"},
}

func TestScanDir(t *testing.T) {
	t.Parallel()
	got, err := ScanDir("testdata/sdk", testRules)
	require.NoError(t, err)
	assert.Equal(t, []Entry{
		{Token: "fake:index/gadget:Gadget", Property: "resourceLabels"},
		{Token: "fake:index/widget:Widget", Property: "tags"},
		{Token: "kubernetes:core/v1:Namespace", Property: "metadata.labels"},
	}, got, "lists of tag structs, ListMeta, providers, components and parsers are not taggable")
}

func TestScanDirRuleOrder(t *testing.T) {
	t.Parallel()
	// With no rule for Tags, the widget is not taggable at all.
	got, err := ScanDir("testdata/sdk", []Rule{{Field: "Labels", Type: pulumiPkg + ".StringMapInput"}})
	require.NoError(t, err)
	assert.Empty(t, got)
}

func TestScanDirMissing(t *testing.T) {
	t.Parallel()
	_, err := ScanDir("testdata/does-not-exist", testRules)
	require.Error(t, err)
}

func TestSortEntries(t *testing.T) {
	t.Parallel()
	got, err := sortEntries([]Entry{{"b", "tags"}, {"a", "labels"}, {"b", "tags"}})
	require.NoError(t, err)
	assert.Equal(t, []Entry{{"a", "labels"}, {"b", "tags"}}, got)

	_, err = sortEntries([]Entry{{"a", "tags"}, {"a", "labels"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `a: tags in both "labels" and "tags"`)
}

func TestRender(t *testing.T) {
	t.Parallel()
	table := Table{
		Modules: []Module{{Path: "example.com/sdk", Version: "v1.2.3"}},
		Entries: []Entry{{"a:b/c:C", "tags"}, {"kubernetes:core/v1:Namespace", "metadata.labels"}},
	}
	src, err := table.Render("costtags", "taggableTypes")
	require.NoError(t, err)
	formatted, err := format.Source(src)
	require.NoError(t, err)
	assert.Equal(t, string(formatted), string(src), "gofmt-clean")

	f, err := parser.ParseFile(token.NewFileSet(), "zz.go", src, parser.ParseComments)
	require.NoError(t, err)
	assert.Equal(t, "costtags", f.Name.Name)
	assert.Contains(t, string(src), "DO NOT EDIT")
	assert.Contains(t, string(src), "example.com/sdk v1.2.3")
	assert.Contains(t, string(src), `"kubernetes:core/v1:Namespace": "metadata.labels",`)
}

func TestListModulesUnknown(t *testing.T) {
	t.Parallel()
	_, err := ListModules(context.Background(), ".", "example.com/not/in/go.mod")
	require.Error(t, err)
}

func TestListModulesPattern(t *testing.T) {
	t.Parallel()
	mods, err := ListModules(context.Background(), ".", "github.com/pulumi/pulumi-azure-native-sdk/...")
	require.NoError(t, err)
	var paths []string
	for _, m := range mods {
		assert.NotEmpty(t, m.Dir)
		assert.NotEmpty(t, m.Version)
		paths = append(paths, m.Path)
	}
	assert.Contains(t, paths, "github.com/pulumi/pulumi-azure-native-sdk/containerservice/v2")
	assert.Contains(t, paths, "github.com/pulumi/pulumi-azure-native-sdk/network/v2")
	assert.Contains(t, paths, "github.com/pulumi/pulumi-azure-native-sdk/resources/v2")
}
