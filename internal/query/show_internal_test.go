package query

import (
	"strings"
	"testing"

	"github.com/streamlake/streamlake/internal/catalog"
)

// SHOW CREATE TABLE writes Athena's DDL: an Iceberg table's transforms as
// Athena spells them (bucket(4, user), an identity field by its name,
// quoted when it is not a plain name) and table_type; an external table's
// partition keys and how its files are read. A column's comment follows
// its type.
func TestCreateTableDDL(t *testing.T) {
	ice := catalog.Table{Database: "lake", Name: "clicks", Type: catalog.Iceberg, Location: "s3://b/lake/clicks",
		Columns: []catalog.Column{{Name: "t", Type: "timestamp"}, {Name: "user-agent", Type: "string", Comment: "the client's"}},
		PartitionKeys: []catalog.Column{{Name: "t_day", Type: "date", Comment: "day(t)"},
			{Name: "user_agent_bucket", Type: "int", Comment: "bucket[4](user-agent)"}, {Name: "t", Type: "timestamp", Comment: "identity(t)"}},
		Properties: map[string]string{"recordCount": "3"}}
	want := "CREATE TABLE `lake`.`clicks` (\n  `t` timestamp,\n  `user-agent` string COMMENT 'the client\\'s')\n" +
		"PARTITIONED BY (day(t), bucket(4, `user-agent`), t)\nLOCATION 's3://b/lake/clicks'\n" +
		"TBLPROPERTIES (\n  'recordCount'='3',\n  'table_type'='iceberg')"
	if got := strings.Join(createTable(ice), "\n"); got != want {
		t.Errorf("Iceberg:\n%s\nwant\n%s", got, want)
	}
	if _, ok := ice.Properties["table_type"]; ok {
		t.Error("createTable changed the table's properties")
	}
	ext := catalog.Table{Database: "raw", Name: "it's", Type: catalog.External, Format: "csv", Location: "/data/x",
		Columns:       []catalog.Column{{Name: "a", Type: "int"}},
		PartitionKeys: []catalog.Column{{Name: "dt", Type: "date"}},
		Properties:    map[string]string{"delimiter": ";"}}
	want = "CREATE EXTERNAL TABLE `raw`.`it's` (\n  `a` int)\nPARTITIONED BY (\n  `dt` date)\n" +
		"ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'\n" +
		"WITH SERDEPROPERTIES ('separatorChar' = ';', 'quoteChar' = '\"')\nLOCATION '/data/x'\n" +
		"TBLPROPERTIES (\n  'delimiter'=';')"
	if got := strings.Join(createTable(ext), "\n"); got != want {
		t.Errorf("external:\n%s\nwant\n%s", got, want)
	}
}
