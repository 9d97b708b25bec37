package query

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/schema"
)

// Athena's SHOW statements, answered from the catalog (DuckDB's own SHOW
// would list the query instance's in-memory views):
//
//	SHOW DATABASES | SCHEMAS [[LIKE] 'pattern']           -> database_name
//	SHOW TABLES [IN | FROM db] [[LIKE] 'pattern']         -> tab_name (database_name, tab_name without IN), views too
//	SHOW COLUMNS IN | FROM db.table                       -> field
//	SHOW COLUMNS IN | FROM table IN | FROM db             -> field
//	SHOW PARTITIONS db.table                              -> partition ('k=v/k2=v2')
//	SHOW TBLPROPERTIES db.table [('key')]                 -> prpt_name, prpt_value
//	SHOW CREATE TABLE | VIEW db.table                     -> createtab_stmt (a row per line)
//	SHOW VIEWS [IN | FROM db] [[LIKE] 'pattern']          -> views (database_name, views without IN)
//
// A pattern after LIKE is SQL's (% and _); a bare one is Athena's (* for
// any characters, | between alternatives). Names match case-insensitively.
// showQuery returns the SQL of a VALUES table holding the answer, which
// the query runs in the statement's place: it is an execution like any
// other, with saved results. ok is false for any other statement.
func (e *Engine) showQuery(ctx context.Context, query string) (sql string, ok bool, err error) {
	toks := trimSemicolons(tokens(query))
	kw := func(i int, words ...string) bool {
		return i < len(toks) && toks[i].kind == tokIdent && !toks[i].quoted && slices.Contains(words, strings.ToLower(toks[i].text))
	}
	if !kw(0, "show") || len(toks) < 2 {
		return "", false, nil
	}
	// pattern reads an optional [LIKE] 'pattern' at i, which must end the statement.
	pattern := func(i int) (func(string) bool, bool) {
		like := kw(i, "like")
		if like {
			i++
		}
		switch {
		case i == len(toks) && !like:
			return func(string) bool { return true }, true
		case i != len(toks)-1 || toks[i].kind != tokString:
			return nil, false
		case like:
			// Names match case-insensitively: both sides lower-cased.
			re, err := catalog.LikeRegexp(strings.ToLower(toks[i].text))
			if err != nil {
				return nil, false
			}
			return func(s string) bool { return re.MatchString(strings.ToLower(s)) }, true
		}
		return hiveMatcher(toks[i].text), true
	}
	// name reads an identifier at i.
	name := func(i int) (string, bool) {
		if i < len(toks) && toks[i].kind == tokIdent {
			return toks[i].text, true
		}
		return "", false
	}
	switch {
	case kw(1, "databases", "schemas"):
		match, ok := pattern(2)
		if !ok {
			return "", false, nil
		}
		l, err := e.listTables(ctx)
		if err != nil {
			return "", true, err
		}
		dbs, err := e.databases(ctx, l)
		if err != nil {
			return "", true, err
		}
		var rows [][]string
		for _, d := range dbs {
			if match(d) {
				rows = append(rows, []string{d})
			}
		}
		return valuesSQL([]string{"database_name"}, rows), true, nil

	case kw(1, "tables", "views"):
		views := kw(1, "views")
		db, i := "", 2
		if kw(2, "in", "from") {
			var ok bool
			if db, ok = name(3); !ok {
				return "", false, nil
			}
			i = 4
		}
		match, ok := pattern(i)
		if !ok {
			return "", false, nil
		}
		l, err := e.listTables(ctx)
		if err != nil {
			return "", true, err
		}
		if db != "" {
			if db, err = e.database(ctx, l, db); err != nil {
				return "", true, err
			}
		}
		var rows [][]string
		for _, t := range l.byName {
			switch {
			case !match(t.Name), views && t.Type != catalog.VirtualView:
			case db == "":
				rows = append(rows, []string{t.Database, t.Name})
			case t.Database == db:
				rows = append(rows, []string{t.Name})
			}
		}
		slices.SortFunc(rows, slices.Compare)
		col := "tab_name"
		if views {
			col = "views"
		}
		if db != "" {
			return valuesSQL([]string{col}, rows), true, nil
		}
		return valuesSQL([]string{"database_name", col}, rows), true, nil

	case kw(1, "columns") && kw(2, "in", "from"):
		var db, tbl string
		a, ok1 := name(3)
		switch {
		case len(toks) == 6 && toks[4].kind == tokDot:
			b, ok2 := name(5)
			if !ok1 || !ok2 {
				return "", false, nil
			}
			db, tbl = a, b
		case len(toks) == 6 && kw(4, "in", "from"):
			b, ok2 := name(5)
			if !ok1 || !ok2 {
				return "", false, nil
			}
			db, tbl = b, a
		default:
			return "", false, nil
		}
		t, err := e.table(ctx, db, tbl)
		if err != nil {
			return "", true, err
		}
		// An external table's partition keys are columns too; an Iceberg
		// table's partition fields are not.
		cols := slices.Clone(t.Columns)
		if t.Type != catalog.Iceberg {
			cols = append(cols, t.PartitionKeys...)
		}
		var rows [][]string
		for _, c := range cols {
			rows = append(rows, []string{c.Name})
		}
		return valuesSQL([]string{"field"}, rows), true, nil

	case kw(1, "tblproperties"):
		db, ok1 := name(2)
		tbl, ok2 := name(4)
		if !ok1 || !ok2 || len(toks) < 5 || toks[3].kind != tokDot {
			return "", false, nil
		}
		only, filtered := "", false
		switch {
		case len(toks) == 5:
		case len(toks) == 8 && toks[5].text == "(" && toks[6].kind == tokString && toks[7].text == ")":
			only, filtered = toks[6].text, true
		default:
			return "", false, nil
		}
		t, err := e.table(ctx, db, tbl)
		if err != nil {
			return "", true, err
		}
		var rows [][]string
		for _, k := range slices.Sorted(maps.Keys(t.Properties)) {
			if !filtered || k == only {
				rows = append(rows, []string{k, t.Properties[k]})
			}
		}
		return valuesSQL([]string{"prpt_name", "prpt_value"}, rows), true, nil

	case kw(1, "create") && kw(2, "table", "view"):
		db, ok1 := name(3)
		tbl, ok2 := name(5)
		if !ok1 || !ok2 || len(toks) != 6 || toks[4].kind != tokDot {
			return "", false, nil
		}
		t, err := e.table(ctx, db, tbl)
		if err != nil {
			return "", true, err
		}
		lines := createTable(t)
		if t.Type == catalog.VirtualView {
			lines = createView(t)
		} else if kw(2, "view") {
			return "", true, fmt.Errorf("query: %s.%s is a table, not a view (SHOW CREATE TABLE shows it)", t.Database, t.Name)
		}
		var rows [][]string
		for _, line := range lines {
			rows = append(rows, []string{line})
		}
		return valuesSQL([]string{"createtab_stmt"}, rows), true, nil

	case kw(1, "partitions"):
		db, ok1 := name(2)
		tbl, ok2 := name(4)
		if !ok1 || !ok2 || len(toks) != 5 || toks[3].kind != tokDot {
			return "", false, nil
		}
		t, err := e.table(ctx, db, tbl)
		if err != nil {
			return "", true, err
		}
		parts, err := e.partitions(ctx, t)
		if err != nil {
			return "", true, err
		}
		rows := make([][]string, len(parts))
		for i, p := range parts {
			rows[i] = []string{p}
		}
		return valuesSQL([]string{"partition"}, rows), true, nil
	}
	return "", false, nil
}

// createTable is the DDL of t as Athena shows it, one line per element: an
// Iceberg table with its partition transforms and table_type, an external
// table with its partition keys and how its files are read.
func createTable(t catalog.Table) []string {
	str := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "\\'") + "'" }
	columns := func(cols []catalog.Column) []string {
		out := make([]string, len(cols))
		for i, c := range cols {
			out[i] = backtick(c.Name) + " " + c.Type
			if c.Comment != "" {
				out[i] += " COMMENT " + str(c.Comment)
			}
		}
		return out
	}
	kind, props := "EXTERNAL TABLE", t.Properties
	if t.Type == catalog.Iceberg {
		kind = "TABLE"
		props = maps.Clone(props)
		if props == nil {
			props = map[string]string{}
		}
		props["table_type"] = "iceberg"
	}
	lines := append([]string{"CREATE " + kind + " " + backtick(t.Database) + "." + backtick(t.Name) + " ("}, ddlList(columns(t.Columns))...)
	switch {
	case len(t.PartitionKeys) == 0:
	case t.Type == catalog.Iceberg:
		parts := make([]string, len(t.PartitionKeys))
		for i, k := range t.PartitionKeys {
			parts[i] = athenaTransform(k.Comment, backtick(k.Name))
		}
		lines = append(lines, "PARTITIONED BY ("+strings.Join(parts, ", ")+")")
	default:
		lines = append(append(lines, "PARTITIONED BY ("), ddlList(columns(t.PartitionKeys))...)
	}
	if t.Type != catalog.Iceberg {
		switch t.Format {
		case "json":
			lines = append(lines, "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'")
		case "csv":
			lines = append(lines, "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'",
				"WITH SERDEPROPERTIES ('separatorChar' = "+str(cmp.Or(props[propDelimiter], ","))+", 'quoteChar' = "+str(cmp.Or(props[propQuote], `"`))+")")
		case "parquet":
			lines = append(lines, "STORED AS PARQUET")
		case "avro":
			lines = append(lines, "STORED AS AVRO")
		}
	}
	lines = append(lines, "LOCATION "+str(t.Location))
	if len(props) > 0 {
		var entries []string
		for _, k := range slices.Sorted(maps.Keys(props)) {
			entries = append(entries, str(k)+"="+str(props[k]))
		}
		lines = append(append(lines, "TBLPROPERTIES ("), ddlList(entries)...)
	}
	return lines
}

// ddlList indents a DDL list's items, one per line, separated by commas
// and closed by ")".
func ddlList(items []string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = "  " + it + ","
	}
	if len(out) > 0 {
		out[len(out)-1] = strings.TrimSuffix(out[len(out)-1], ",") + ")"
	}
	return out
}

// backtick quotes a name in Hive DDL.
func backtick(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// athenaTransform writes an Iceberg partition field's transform, as the
// catalog notes it (day(ts), bucket[4](user), identity(site)), in
// Athena's DDL: day(ts), bucket(4, user), site. Without a note it is the
// field's name.
func athenaTransform(note, name string) string {
	m := transformNote.FindStringSubmatch(note)
	if m == nil {
		return cmp.Or(note, name)
	}
	col := m[3]
	if !plainIdent.MatchString(col) {
		col = backtick(col)
	}
	switch {
	case m[1] == "identity":
		return col
	case m[2] != "":
		return m[1] + "(" + m[2] + ", " + col + ")"
	}
	return m[1] + "(" + col + ")"
}

var transformNote = regexp.MustCompile(`^(\w+)(?:\[(\d+)\])?\((.*)\)$`)

// databasesLister is the catalog's list of databases, empty ones included.
type databasesLister interface {
	Databases(ctx context.Context) ([]catalog.Database, error)
}

// databases lists the databases of the engine's listing l (its known
// ones and those holding tables) and, where the catalog lists them, the
// empty ones too, sorted.
func (e *Engine) databases(ctx context.Context, l *tableListing) ([]string, error) {
	names := slices.Clone(l.databases)
	if dl, ok := e.cat.(databasesLister); ok {
		dbs, err := dl.Databases(ctx)
		if err != nil {
			return nil, err
		}
		for _, d := range dbs {
			names = append(names, d.Name)
		}
		slices.Sort(names)
	}
	return slices.Compact(names), nil
}

// database returns the catalog's spelling of database db (matched
// case-insensitively): from l, else from the catalog's list of databases
// (one with no table yet), else an error wrapping
// catalog.ErrNoSuchDatabase.
func (e *Engine) database(ctx context.Context, l *tableListing, db string) (string, error) {
	if d, ok := l.dbs[strings.ToLower(db)]; ok {
		return d, nil
	}
	dbs, err := e.databases(ctx, l)
	if err != nil {
		return "", err
	}
	for _, d := range dbs {
		if strings.EqualFold(d, db) {
			return d, nil
		}
	}
	return "", fmt.Errorf("query: database %s: %w", db, catalog.ErrNoSuchDatabase)
}

// table returns the full definition of catalog table db.name (names
// matched case-insensitively, as queries name tables), or a
// *NotFoundError.
func (e *Engine) table(ctx context.Context, db, name string) (catalog.Table, error) {
	l, err := e.listTables(ctx)
	if err != nil {
		return catalog.Table{}, err
	}
	if db, err = e.database(ctx, l, db); err != nil {
		return catalog.Table{}, err
	}
	t, ok := l.byName[[2]string{strings.ToLower(db), strings.ToLower(name)}]
	if !ok {
		return catalog.Table{}, &NotFoundError{Database: db, Table: name}
	}
	// The listing holds an Iceberg table's identity only: read it whole.
	t, err = e.cat.Table(ctx, t.Database, t.Name)
	if errors.Is(err, catalog.ErrNoSuchTable) {
		return t, &NotFoundError{Database: db, Table: name}
	}
	return t, err
}

// partitionsLister lists an external table's partitions.
type partitionsLister interface {
	GetPartitions(ctx context.Context, database, table, filter string) ([]catalog.Partition, error)
}

// partitions returns the partitions of t as 'k=v/...' paths, sorted: an
// external table's from the catalog, an Iceberg table's from the data
// files of its current snapshot (under the spec each file was written
// with).
func (e *Engine) partitions(ctx context.Context, t catalog.Table) ([]string, error) {
	var out []string
	if t.Type != catalog.Iceberg {
		l, ok := e.cat.(partitionsLister)
		if !ok || len(t.PartitionKeys) == 0 {
			return nil, nil
		}
		ps, err := l.GetPartitions(ctx, t.Database, t.Name, "")
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			kv := make([]string, 0, len(p.Values))
			for i, v := range p.Values {
				if i < len(t.PartitionKeys) {
					kv = append(kv, t.PartitionKeys[i].Name+"="+v)
				}
			}
			out = append(out, path.Join(kv...))
		}
		slices.Sort(out)
		return out, nil
	}
	tbl, err := e.loadIceberg(ctx, t.Database, t.Name)
	if err != nil {
		return nil, err
	}
	if tbl.CurrentSnapshot() == nil {
		return nil, nil
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("query: table %s.%s: plan files: %w", t.Database, t.Name, err)
	}
	meta := tbl.Metadata()
	for _, task := range tasks {
		spec := meta.PartitionSpecByID(int(task.File.SpecID()))
		if spec == nil || spec.NumFields() == 0 {
			continue
		}
		values := task.File.Partition()
		row := make(partitionRow, 0, spec.NumFields())
		for _, f := range spec.Fields() {
			row = append(row, values[f.FieldID])
		}
		out = append(out, spec.PartitionToPath(row, tbl.Schema()))
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// partitionRow is a data file's partition values in its spec's order.
type partitionRow []any

func (r partitionRow) Size() int        { return len(r) }
func (r partitionRow) Get(i int) any    { return r[i] }
func (r partitionRow) Set(i int, v any) { r[i] = v }

// valuesSQL is a query returning rows (strings) under cols, in order.
func valuesSQL(cols []string, rows [][]string) string {
	if len(rows) == 0 {
		empty := make([]column, len(cols))
		for i, c := range cols {
			empty[i] = column{name: c, duck: "VARCHAR"}
		}
		return emptyView(empty)
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = schema.QuoteIdent(c)
	}
	var b strings.Builder
	b.WriteString("SELECT * FROM (VALUES ")
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		vals := make([]string, len(r))
		for j, v := range r {
			vals[j] = schema.QuoteString(v)
		}
		b.WriteString("(" + strings.Join(vals, ", ") + ")")
	}
	b.WriteString(") AS t(" + strings.Join(quoted, ", ") + ")")
	return b.String()
}

// hiveMatcher matches Athena's SHOW pattern p (* any run, | between
// alternatives), case-insensitively.
func hiveMatcher(p string) func(string) bool {
	alts := strings.Split(p, "|")
	for i, a := range alts {
		alts[i] = strings.ReplaceAll(regexp.QuoteMeta(strings.TrimSpace(a)), `\*`, ".*")
	}
	return regexp.MustCompile("(?is)^(?:" + strings.Join(alts, "|") + ")$").MatchString
}
