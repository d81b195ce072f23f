// Command gentaggable writes the table of taggable resource types that costtags applies
// its transform to, from the sources of the SDK modules pinned in go.mod.
//
//	go run ./internal/gentaggable -o zz_taggable.go
//
// It is run by `go generate` in components/costtags.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/flotilla-io/flotilla/components/costtags/internal/taggable"
)

func main() {
	out := flag.String("o", "zz_taggable.go", "file to write")
	pkg := flag.String("pkg", "costtags", "package of the written file")
	name := flag.String("var", "taggableTypes", "name of the map variable")
	flag.Parse()
	if err := run(os.Stdout, *out, *pkg, *name); err != nil {
		fmt.Fprintln(os.Stderr, "gentaggable:", err)
		os.Exit(1) //nolint:forbidigo // this is a main
	}
}

func run(w io.Writer, out, pkg, name string) error {
	table, err := taggable.Load(context.Background(), ".")
	if err != nil {
		return err
	}
	src, err := table.Render(pkg, name)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, src, 0o644); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "gentaggable: %d taggable resource types from %d modules -> %s\n", len(table.Entries), len(table.Modules), out)
	return err
}
