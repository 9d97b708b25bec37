package layout

import (
	"strconv"
	"strings"

	"github.com/streamlake/streamlake/internal/crawl/classify"
)

// table builds the table of folder n from files, whose first depth folder
// levels below n are partitions.
func (g *grouper) table(n *node, files []*File, depth int) {
	name := n.name
	if n.dir == "" {
		name = g.opts.Name
		if name == "" {
			name = "root"
		}
	}
	first := files[0].Result
	t := TableSpec{
		Name: TableName(name), Dir: n.dir, Location: g.location(n.dir),
		Format: first.Format, Compression: first.Compression, JSONArray: first.JSONArray,
	}
	if first.CSV != nil {
		p := *first.CSV
		t.CSV = &p
	}

	// Partition folders, per level.
	segs := make([][]string, len(files))
	for i, f := range files {
		segs[i] = strings.Split(rel(n, f), "/")[:depth]
	}
	values := make([][]string, len(files))
	for i := range values {
		values[i] = make([]string, depth)
	}
	for lvl := 0; lvl < depth; lvl++ {
		key := hiveKey(segs, lvl)
		col := make([]string, len(files))
		for i := range files {
			v := segs[i][lvl]
			if key != "" {
				v = v[len(key)+1:]
			}
			values[i][lvl], col[i] = v, v
		}
		if key == "" {
			key = "partition_" + strconv.Itoa(lvl)
		}
		t.PartitionKeys = append(t.PartitionKeys, PartitionKey{Name: TableName(key), Type: partitionType(col)})
	}

	// Partitions in key order of their first file, and columns merged in
	// key order.
	index := map[string]int{}
	var cols *classify.Type
	t.Stats.RecordsExact = true
	for i, f := range files {
		if f.Result.Compression != t.Compression {
			t.Compression = Mixed
		}
		t.JSONArray = t.JSONArray && f.Result.JSONArray
		id := strings.Join(segs[i], "/")
		p, ok := index[id]
		if !ok {
			p = len(t.Partitions)
			index[id] = p
			loc := t.Location
			if id != "" {
				loc = g.location(joinDir(n.dir, id))
			}
			t.Partitions = append(t.Partitions, Partition{Values: values[i], Location: loc, Stats: Stats{RecordsExact: true}})
		}
		part := &t.Partitions[p]
		part.Files = append(part.Files, f.Key)
		part.Stats.add(f)
		t.Stats.add(f)

		merged, cs := classify.Merge("", cols, classify.StructOf(f.Result.Columns...))
		cols = merged
		for _, c := range append(f.Result.Conflicts, cs...) {
			t.Conflicts = append(t.Conflicts, TableConflict{Key: f.Key, Conflict: c})
		}
	}
	t.Columns = dropPartitionColumns(&t, cols.Fields)
	for _, d := range g.rep.Similarity {
		if d.Dir == n.dir || n.ok && (n.dir == "" || strings.HasPrefix(d.Dir, n.dir+"/")) {
			t.Decisions = append(t.Decisions, d)
		}
	}
	if t.CSV != nil { // the files' columns, merged (partition keys included)
		t.CSV.Names = t.CSV.Names[:0:0]
		for _, c := range cols.Fields {
			t.CSV.Names = append(t.CSV.Names, c.Name)
		}
	}
	g.tables = append(g.tables, t)
}

func (s *Stats) add(f *File) {
	s.Files++
	s.Bytes += f.Size
	s.Records += f.Result.Records
	s.RecordsExact = s.RecordsExact && f.Result.RecordsExact
}

func (g *grouper) location(dir string) string {
	loc := strings.TrimSuffix(g.opts.Location, "/")
	if dir == "" {
		return loc
	}
	if loc == "" {
		return dir
	}
	return loc + "/" + dir
}

// hiveKey returns the key when every folder of a level is key=value with
// the same non-empty key, else "".
func hiveKey(segs [][]string, lvl int) string {
	key := ""
	for _, s := range segs {
		k, _, ok := strings.Cut(s[lvl], "=")
		if !ok || k == "" || key != "" && k != key {
			return ""
		}
		key = k
	}
	return key
}

// partitionType is int (bigint) when every value is an integer, date when
// every value is YYYY-MM-DD, else string.
func partitionType(values []string) *classify.Type {
	kind := classify.Kind("")
	for _, v := range values {
		k := classify.InferText(v).Kind
		switch {
		case k != classify.Int && k != classify.BigInt && k != classify.Date:
			return classify.Of(classify.String)
		case kind == "" || kind == classify.Int && k == classify.BigInt:
			kind = k
		case (kind == classify.Date) != (k == classify.Date):
			return classify.Of(classify.String)
		}
	}
	if kind == "" {
		kind = classify.String
	}
	return classify.Of(kind)
}

// dropPartitionColumns removes data columns named like a partition key,
// reporting each.
func dropPartitionColumns(t *TableSpec, cols []classify.Field) []classify.Field {
	keys := map[string]bool{}
	for _, k := range t.PartitionKeys {
		keys[k.Name] = true
	}
	out := make([]classify.Field, 0, len(cols))
	for _, c := range cols {
		if keys[strings.ToLower(c.Name)] {
			t.Conflicts = append(t.Conflicts, TableConflict{Conflict: classify.Conflict{
				Path: c.Name, A: c.Type.Hive(), B: "partition key", Resolved: "partition key"}})
			continue
		}
		out = append(out, c)
	}
	return out
}
