package crawl

import (
	"context"
	"fmt"
	"testing"

	"github.com/streamlake/streamlake/internal/crawl/layout"
)

func TestExternalTable(t *testing.T) {
	res, err := layout.Crawl(context.Background(), layout.Dir("testdata/layouts/csv_header/files"), layout.State{}, layout.CrawlOptions{Layout: layout.Options{Name: "scores", Location: "/lake/scores"}})
	if err != nil || len(res.Tables) != 1 {
		t.Fatalf("%d tables, %v", len(res.Tables), err)
	}
	ct := ExternalTable(res.Tables[0], "ext")
	if ct.Database != "ext" || ct.Name != "scores" || ct.Location != "/lake/scores" || ct.Format != "csv" ||
		ct.Properties[PropSkipHeader] != "1" || ct.Properties[PropDelimiter] != "," || ct.Properties[PropRecordCount] != "3" ||
		ct.Properties[PropRecordCountExact] != "true" {
		t.Fatalf("table %+v", ct)
	}
	var cols []string
	for _, c := range ct.Columns {
		cols = append(cols, c.Name+" "+c.Type+" "+c.DuckDB)
	}
	if got := fmt.Sprint(cols); got != "[id int INTEGER name string VARCHAR score double DOUBLE joined date DATE]" {
		t.Fatalf("columns %s", got)
	}
}
