package crawl

import (
	"strconv"

	"github.com/streamlake/streamlake/internal/catalog"
	"github.com/streamlake/streamlake/internal/crawl/classify"
	"github.com/streamlake/streamlake/internal/crawl/layout"
)

// Table properties of external tables found by layout.Crawl (besides
// classification, compressionType, objectCount, sizeBytes, recordCount
// and recordCountExact, which mean what they mean for Staging), named as
// Glue names them where Glue has a name.
const (
	PropDelimiter      = "delimiter"              // CSV
	PropQuote          = "quoteChar"              // CSV
	PropSkipHeader     = "skip.header.line.count" // CSV: "1" with a header, "0" without
	PropJSONArray      = "jsonArray"              // "true" for JSON array files
	PropPartitionCount = "partitionCount"
)

// ExternalTable returns t, a table found by layout.Crawl, as an external catalog table in database. The
// partitions themselves (values, locations, files) are in t.Partitions;
// the catalog has no place for them yet.
func ExternalTable(t layout.TableSpec, database string) catalog.Table {
	props := map[string]string{
		PropClassification:   string(t.Format),
		PropCompression:      string(t.Compression),
		PropObjectCount:      strconv.Itoa(t.Stats.Files),
		PropSizeBytes:        strconv.FormatInt(t.Stats.Bytes, 10),
		PropRecordCount:      strconv.FormatInt(t.Stats.Records, 10),
		PropRecordCountExact: strconv.FormatBool(t.Stats.RecordsExact),
		PropPartitionCount:   strconv.Itoa(len(t.Partitions)),
	}
	if t.CSV != nil {
		props[PropDelimiter] = t.CSV.Delimiter
		props[PropQuote] = t.CSV.Quote
		props[PropSkipHeader] = "0"
		if t.CSV.Header {
			props[PropSkipHeader] = "1"
		}
	}
	if t.JSONArray {
		props[PropJSONArray] = "true"
	}
	return catalog.Table{
		Database: database, Name: t.Name, Type: catalog.External,
		Format: string(t.Format), Compression: string(t.Compression), Location: t.Location,
		Columns: catalogColumns(t.Columns), PartitionKeys: partitionColumns(t.PartitionKeys),
		Properties: props,
	}
}

func catalogColumns(fs []classify.Field) []catalog.Column {
	out := make([]catalog.Column, 0, len(fs))
	for _, f := range fs {
		out = append(out, catalog.Column{Name: f.Name, Type: f.Type.Hive(), DuckDB: f.Type.DuckDB()})
	}
	return out
}

func partitionColumns(keys []layout.PartitionKey) []catalog.Column {
	out := make([]catalog.Column, 0, len(keys))
	for _, k := range keys {
		out = append(out, catalog.Column{Name: k.Name, Type: k.Type.Hive(), DuckDB: k.Type.DuckDB()})
	}
	return out
}
