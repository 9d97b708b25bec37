package layout

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/streamlake/streamlake/internal/crawl/classify"
)

// node is a folder of the tree below the include path.
type node struct {
	name     string
	dir      string // relative to the include path, "" for the root
	files    []*File
	children []*node
	index    map[string]*node

	// analysis (see analyze)
	ok    bool
	depth int // folder levels from this folder down to its files
	key   string
	cols  map[string]*classify.Type
}

func (n *node) add(f *File) {
	segs := strings.Split(f.Key, "/")
	for _, s := range segs[:len(segs)-1] {
		c, ok := n.index[s]
		if !ok {
			c = &node{name: s, dir: joinDir(n.dir, s), index: map[string]*node{}}
			n.index[s] = c
			n.children = append(n.children, c)
		}
		n = c
	}
	n.files = append(n.files, f)
}

func joinDir(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

type grouper struct {
	opts      Options
	threshold float64
	rep       *Report
	tables    []TableSpec
}

// Group groups classified files into tables; see the package doc for the
// rules. files may be in any order.
func Group(files []File, opts Options) ([]TableSpec, Report, error) {
	globs, err := CompileGlobs(opts.Exclude)
	if err != nil {
		return nil, Report{}, err
	}
	if opts.Threshold <= 0 {
		opts.Threshold = DefaultThreshold
	}
	sorted := make([]*File, len(files))
	for i := range files {
		sorted[i] = &files[i]
	}
	slices.SortFunc(sorted, func(a, b *File) int { return strings.Compare(a.Key, b.Key) })

	rep := Report{Files: len(files), FilesByFormat: map[classify.Format]int{}}
	root := &node{index: map[string]*node{}}
	for _, f := range sorted {
		if Excluded(globs, f.Key) {
			rep.Excluded = append(rep.Excluded, f.Key)
			continue
		}
		rep.FilesByFormat[f.Result.Format]++
		if f.Result.Format == classify.Unclassified || f.Result.Format == "" {
			rep.Unclassified = append(rep.Unclassified, Unclassified{Key: f.Key, Reason: f.Result.Reason})
			continue
		}
		if why := engineCannotRead(f.Result); why != "" {
			rep.Unreadable = append(rep.Unreadable, Unclassified{Key: f.Key, Reason: why})
		}
		root.add(f)
	}
	g := &grouper{opts: opts, threshold: opts.Threshold, rep: &rep}
	g.analyze(root)
	if opts.TableLevel > 0 {
		g.byLevel(root, 1)
	} else {
		g.auto(root)
	}
	g.name()
	if opts.MaxTables > 0 && len(g.tables) > opts.MaxTables {
		return nil, rep, fmt.Errorf("crawl %s: %w: %d found, at most %d allowed",
			opts.Location, ErrTooManyTables, len(g.tables), opts.MaxTables)
	}
	for _, t := range g.tables {
		rep.Conflicts = append(rep.Conflicts, t.Conflicts...)
	}
	return g.tables, rep, nil
}

// CompileGlobs compiles exclude patterns.
func CompileGlobs(patterns []string) ([]*Glob, error) {
	globs := make([]*Glob, 0, len(patterns))
	for _, p := range patterns {
		g, err := CompileGlob(p)
		if err != nil {
			return nil, err
		}
		globs = append(globs, g)
	}
	return globs, nil
}

// Excluded reports whether any of globs matches key.
func Excluded(globs []*Glob, key string) bool {
	for _, g := range globs {
		if g.Match(key) {
			return true
		}
	}
	return false
}

// engineCannotRead says why the query engine cannot read a file that is in a
// table, or "": other engines (Trino, Spark) may read it, so it stays in
// the table, and the report says so. DuckDB reads Parquet compressed with
// none, snappy, gzip, zstd, brotli and lz4_raw; not Parquet's deprecated
// LZ4 (Hadoop's framing) nor LZO.
func engineCannotRead(r classify.Result) string {
	if r.Format != classify.Parquet {
		return ""
	}
	switch r.Compression {
	case "lz4":
		return "Parquet compressed with LZ4 in Hadoop's framing (Parquet's deprecated LZ4 codec), which the query engine cannot read; rewrite it with LZ4_RAW, ZSTD or SNAPPY"
	case "lzo":
		return "Parquet compressed with LZO, which the query engine cannot read; rewrite it with ZSTD or SNAPPY"
	}
	return ""
}

// compatKey is what files of one table must share.
func compatKey(r *classify.Result) string {
	if r.CSV != nil {
		header := "a header row"
		if !r.CSV.Header {
			header = "no header row"
		}
		return fmt.Sprintf("%s (delimiter %q, %s)", r.Format, r.CSV.Delimiter, header)
	}
	return string(r.Format)
}

// colSet maps lower-cased top-level column names to their types.
func colSet(cols []classify.Field) map[string]*classify.Type {
	s := make(map[string]*classify.Type, len(cols))
	for _, c := range cols {
		s[strings.ToLower(c.Name)] = c.Type
	}
	return s
}

// addCols merges the columns of b into a.
func addCols(a, b map[string]*classify.Type) {
	for k, t := range b {
		a[k], _ = classify.Merge("", a[k], t)
	}
}

// similarity is the share of the smaller column set that the other set
// has with a compatible type (merging without conflict): the overlap
// coefficient of the compatible columns, 1 for two empty sets.
func similarity(a, b map[string]*classify.Type) float64 {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(a) == 0 {
		if len(b) == 0 {
			return 1
		}
		return 0
	}
	same := 0
	for k, ta := range a {
		if tb, ok := b[k]; ok {
			if _, cs := classify.Merge("", ta, tb); len(cs) == 0 {
				same++
			}
		}
	}
	return float64(same) / float64(len(a))
}

type member struct {
	name  string
	ok    bool
	depth int
	key   string
	cols  map[string]*classify.Type
	dir   bool
}

// analyze decides bottom-up whether each folder can be one table.
func (g *grouper) analyze(n *node) {
	var members []member
	for _, c := range n.children {
		g.analyze(c)
		members = append(members, member{name: c.name + "/", ok: c.ok, depth: c.depth, key: c.key, cols: c.cols, dir: true})
	}
	for _, f := range n.files {
		members = append(members, member{name: f.Key[strings.LastIndexByte(f.Key, '/')+1:], ok: true,
			key: compatKey(&f.Result), cols: colSet(f.Result.Columns)})
	}
	n.ok = !(len(n.files) > 0 && len(n.children) > 0)
	started := false
	union := map[string]*classify.Type{}
	for _, m := range members {
		if !m.ok {
			n.ok = false
			continue
		}
		if !started {
			started = true
			n.key, n.depth = m.key, m.depth
			addCols(union, m.cols)
			continue
		}
		score := similarity(m.cols, union)
		d := SimilarityScore{Dir: n.dir, Member: m.name, Score: score, Similar: score >= g.threshold}
		switch {
		case m.key != n.key:
			d.Similar, d.Reason = false, "format "+m.key+" differs from "+n.key
		case m.depth != n.depth:
			d.Similar, d.Reason = false, "files at a different depth"
		}
		if m.dir || !d.Similar {
			g.rep.Similarity = append(g.rep.Similarity, d)
		}
		n.ok = n.ok && d.Similar
		addCols(union, m.cols)
	}
	n.cols = union
	if len(n.children) > 0 {
		n.depth++
	}
}

// auto places tables at the topmost compatible folders.
func (g *grouper) auto(n *node) {
	if n.ok && (len(n.files) > 0 || len(n.children) > 0) {
		g.table(n, below(n), n.depth)
		return
	}
	g.fileGroups(n, n.files)
	for _, c := range n.children {
		g.auto(c)
	}
}

// fileGroups makes tables of the similar files of a folder that is not
// a table.
func (g *grouper) fileGroups(n *node, files []*File) {
	type group struct {
		key   string
		union map[string]*classify.Type
		files []*File
	}
	var groups []*group
	for _, f := range files {
		key, cols := compatKey(&f.Result), colSet(f.Result.Columns)
		var into *group
		for _, gr := range groups {
			if gr.key == key && similarity(cols, gr.union) >= g.threshold {
				into = gr
				break
			}
		}
		if into == nil {
			into = &group{key: key, union: map[string]*classify.Type{}}
			groups = append(groups, into)
		}
		into.files = append(into.files, f)
		addCols(into.union, cols)
	}
	for _, gr := range groups {
		g.table(n, gr.files, 0)
	}
}

// byLevel places tables at the folders of level Options.TableLevel.
func (g *grouper) byLevel(n *node, level int) {
	if level == g.opts.TableLevel {
		files := below(n)
		type shape struct {
			key   string
			depth int
		}
		count := map[shape]int{}
		var best shape
		for _, f := range files {
			s := shape{compatKey(&f.Result), depthBelow(n, f)}
			count[s]++
			if count[s] > count[best] {
				best = s
			}
		}
		var keep []*File
		for _, f := range files {
			if (shape{compatKey(&f.Result), depthBelow(n, f)}) == best {
				keep = append(keep, f)
				continue
			}
			g.rep.Unclassified = append(g.rep.Unclassified, Unclassified{Key: f.Key,
				Reason: "format or folder depth differs from table " + n.dir})
		}
		if len(keep) > 0 {
			g.table(n, keep, best.depth)
		}
		return
	}
	for _, f := range n.files {
		g.rep.Unclassified = append(g.rep.Unclassified, Unclassified{Key: f.Key, Reason: "above the table level"})
	}
	for _, c := range n.children {
		g.byLevel(c, level+1)
	}
}

// below returns the files under n in key order.
func below(n *node) []*File {
	var out []*File
	var walk func(*node)
	walk = func(n *node) {
		out = append(out, n.files...)
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(n)
	slices.SortFunc(out, func(a, b *File) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// rel is f's key relative to n's folder.
func rel(n *node, f *File) string {
	if n.dir == "" {
		return f.Key
	}
	return strings.TrimPrefix(f.Key, n.dir+"/")
}

func depthBelow(n *node, f *File) int { return strings.Count(rel(n, f), "/") }

// name makes table names unique.
func (g *grouper) name() {
	taken := map[string]bool{}
	for i := range g.tables {
		t := &g.tables[i]
		if taken[t.Name] {
			h := fnv.New32a()
			h.Write([]byte(t.Location + "\x00" + t.Partitions[0].Files[0]))
			t.Name = fmt.Sprintf("%s_%08x", t.Name, h.Sum32())
		}
		taken[t.Name] = true
		for j := range t.Conflicts {
			t.Conflicts[j].Table = t.Name
		}
	}
}

// TableName sanitises a folder name as a table or column name: lower case,
// characters other than a-z, 0-9 and _ replaced by _; "" is "table".
func TableName(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) == 0 {
		return "table"
	}
	return string(b)
}
