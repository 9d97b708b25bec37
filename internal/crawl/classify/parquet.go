package classify

import (
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// parquetResult reads the footer of a Parquet file (the reader seeks to the
// end and reads only the metadata) and maps its schema, through Arrow's
// reading of the logical types, to Hive types.
func parquetResult(r io.ReaderAt, size int64) (Result, error) {
	pr, err := file.NewParquetReader(io.NewSectionReader(r, 0, size))
	if err != nil {
		return unclassified(None, "parquet magic but unreadable footer: "+err.Error()), nil
	}
	defer pr.Close()
	md := pr.MetaData()
	as, err := pqarrow.FromParquet(md.Schema, nil, md.KeyValueMetadata())
	if err != nil {
		return unclassified(None, "parquet schema: "+err.Error()), nil
	}
	cols := make([]Field, 0, len(as.Fields()))
	for _, f := range as.Fields() {
		cols = append(cols, Field{Name: f.Name, Type: fromArrow(f.Type)})
	}
	comp := None
	if md.NumRowGroups() > 0 && md.RowGroup(0).NumColumns() > 0 {
		if cc, err := md.RowGroup(0).ColumnChunk(0); err == nil {
			comp = parquetCodec(cc.Compression().String())
		}
	}
	return Result{Format: Parquet, Compression: comp, Columns: cols, Records: md.NumRows, RecordsExact: true}, nil
}

// parquetCodec names the codec of the first column chunk: none, snappy,
// gzip, zstd, or the lower-cased Parquet name (lz4, lz4_raw, brotli).
func parquetCodec(name string) Compression {
	switch n := strings.ToLower(name); n {
	case "uncompressed", "":
		return None
	default:
		return Compression(n)
	}
}

// fromArrow maps an Arrow type to a Hive type. Unsigned integers take the
// next wider signed type; times, intervals and other types without a Hive
// equivalent read as string.
func fromArrow(t arrow.DataType) *Type {
	switch t := t.(type) {
	case *arrow.BooleanType:
		return Of(Boolean)
	case *arrow.Int8Type:
		return Of(TinyInt)
	case *arrow.Int16Type, *arrow.Uint8Type:
		return Of(SmallInt)
	case *arrow.Int32Type, *arrow.Uint16Type:
		return Of(Int)
	case *arrow.Int64Type, *arrow.Uint32Type:
		return Of(BigInt)
	case *arrow.Uint64Type:
		return DecimalOf(20, 0)
	case *arrow.Float16Type, *arrow.Float32Type:
		return Of(Float)
	case *arrow.Float64Type:
		return Of(Double)
	case *arrow.StringType, *arrow.LargeStringType, *arrow.StringViewType:
		return Of(String)
	case *arrow.BinaryType, *arrow.LargeBinaryType, *arrow.BinaryViewType, *arrow.FixedSizeBinaryType:
		return Of(Binary)
	case *arrow.Date32Type, *arrow.Date64Type:
		return Of(Date)
	case *arrow.TimestampType:
		return Of(Timestamp)
	case *arrow.Decimal32Type:
		return DecimalOf(int(t.Precision), int(t.Scale))
	case *arrow.Decimal64Type:
		return DecimalOf(int(t.Precision), int(t.Scale))
	case *arrow.Decimal128Type:
		return DecimalOf(int(t.Precision), int(t.Scale))
	case *arrow.Decimal256Type:
		return DecimalOf(min(int(t.Precision), 38), int(t.Scale))
	case *arrow.ListType:
		return ArrayOf(fromArrow(t.Elem()))
	case *arrow.LargeListType:
		return ArrayOf(fromArrow(t.Elem()))
	case *arrow.FixedSizeListType:
		return ArrayOf(fromArrow(t.Elem()))
	case *arrow.MapType:
		return MapOf(fromArrow(t.KeyType()), fromArrow(t.ItemType()))
	case *arrow.StructType:
		fields := make([]Field, 0, t.NumFields())
		for _, f := range t.Fields() {
			fields = append(fields, Field{Name: f.Name, Type: fromArrow(f.Type)})
		}
		return StructOf(fields...)
	case *arrow.DictionaryType:
		return fromArrow(t.ValueType)
	case *arrow.NullType:
		return Of(Null)
	}
	return Of(String)
}
