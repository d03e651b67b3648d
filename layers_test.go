package reseq

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fileLayers lists the package's files as stages, bottom-up, as doc.go
// does: a file may use what files of its own layer or of an earlier one
// declare, never a later one.
var fileLayers = [][]string{
	{"packet.go", "errors.go"},
	{"options.go"},
	{"compress.go"},
	{"capture.go"},
	{"sniff.go"},
	{"mmap_unix.go", "mmap_linux.go", "mmap_bsd.go", "mmap_other.go"},
	{"input.go"},
	{"unwrap.go"},
	{"archive.go"},
	{"format.go"},
	{"source.go"},
	{"merge.go"},
	{"open.go", "doc.go"},
}

// TestFilesLayered type-checks the package's files (those built here) and
// fails when one uses a declaration of a later stage: archive code writing
// into the Reader, a format reader calling the merge.
func TestFilesLayered(t *testing.T) {
	layer := map[string]int{}
	for i, files := range fileLayers {
		for _, f := range files {
			layer[f] = i
		}
	}
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range pkg.GoFiles {
		if _, ok := layer[name]; !ok {
			t.Errorf("%s is in no layer of fileLayers", name)
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{}}
	// Imported packages are left empty (what is used of them does not
	// resolve, and those errors are not this test's): only the package's
	// own declarations matter, and it stays fast.
	conf := types.Config{
		Importer: emptyImporter{},
		Error:    func(error) {},
	}
	self, _ := conf.Check("github.com/reseq/reseq", fset, files, info)
	seen := map[string]bool{}
	check := func(at token.Pos, obj types.Object) {
		if obj == nil || obj.Pkg() != self || !obj.Pos().IsValid() {
			return
		}
		from := filepath.Base(fset.Position(at).Filename)
		to := filepath.Base(fset.Position(obj.Pos()).Filename)
		if layer[to] <= layer[from] {
			return
		}
		if msg := from + " uses " + obj.Name() + " of " + to; !seen[msg] {
			seen[msg] = true
			t.Error(msg + ", a later stage")
		}
	}
	for id, obj := range info.Uses {
		check(id.Pos(), obj)
	}
	for sel, s := range info.Selections {
		check(sel.Sel.Pos(), s.Obj())
	}
	// The list names no file that is gone.
	all := slices.Concat(fileLayers...)
	for _, f := range all {
		if !strings.HasPrefix(f, "mmap_") && !slices.Contains(pkg.GoFiles, f) {
			t.Errorf("fileLayers names %s, which is not built here", f)
		}
	}
}

// emptyImporter imports every package as an empty one.
type emptyImporter struct{}

func (emptyImporter) Import(path string) (*types.Package, error) {
	p := types.NewPackage(path, filepath.Base(path))
	p.MarkComplete()
	return p, nil
}
