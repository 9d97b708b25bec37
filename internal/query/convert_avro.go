package query

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/hamba/avro/v2"
	"github.com/hamba/avro/v2/ocf"
)

// avroBatchRows is how many records make one Parquet row group batch.
const avroBatchRows = 64 << 10

// avroConversion converts an Avro object container file to a Parquet file
// (zstd) with the table's columns and types: a record's fields by name
// (case-insensitive), or one column named value for a file of
// non-records, as the crawler catalogs it. Values convert as the
// crawler maps the types: unions with null are the other branch or NULL;
// other unions, enums and recursive records are text (JSON for complex
// values); date, timestamp-millis/-micros (also local-) and decimal keep
// their meaning; time-millis/-micros are integers. A value that does not
// fit its column (the table's type is not the file's) is NULL.
func avroConversion(cols []column) *conversion {
	return &conversion{
		fingerprint: "avro->parquet v1 columns=" + columnsHash(cols),
		suffix:      ".parquet",
		run: func(ctx context.Context, src io.Reader, w io.Writer) (err error) {
			// A file anyone dropped must fail its query, not the process.
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("avro: unreadable file: %v", r)
				}
			}()
			return avroToParquet(ctx, src, w, cols)
		},
	}
}

func avroToParquet(ctx context.Context, src io.Reader, w io.Writer, cols []column) error {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		t, err := arrowType(c.duck)
		if err != nil {
			return fmt.Errorf("column %s: %w", c.name, err)
		}
		fields[i] = arrow.Field{Name: c.name, Type: t, Nullable: true}
	}
	sc := arrow.NewSchema(fields, nil)
	if f, ok := src.(*os.File); ok {
		if err := checkOCF(f); err != nil {
			return err
		}
	}
	dec, err := ocf.NewDecoder(src, ocf.WithDecoderConfig(avroAPI))
	if err != nil {
		return fmt.Errorf("avro: %w", err)
	}
	ws := dec.Schema()
	// The writer schema's field of each column (nil: none, all NULL), or
	// for a file of non-records, the column named value.
	srcField := make([]*avro.Field, len(cols))
	rec, isRecord := deref(ws).(*avro.RecordSchema)
	for i, c := range cols {
		if isRecord {
			srcField[i] = findField(rec.Fields(), c.name)
		}
	}
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithDictionaryDefault(true))
	fw, err := pqarrow.NewFileWriter(sc, w, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	flush := func() error {
		r := b.NewRecordBatch()
		defer r.Release()
		if r.NumRows() == 0 {
			return nil
		}
		return fw.WriteBuffered(r)
	}
	rows := 0
	for dec.HasNext() {
		var v any
		if err := dec.Decode(&v); err != nil {
			fw.Close()
			return fmt.Errorf("avro record %d: %w", rows, err)
		}
		for i, c := range cols {
			fb := b.Field(i)
			switch {
			case isRecord && srcField[i] == nil:
				fb.AppendNull()
			case isRecord:
				m, _ := v.(map[string]any)
				appendAvro(fb, srcField[i].Type(), m[srcField[i].Name()])
			case strings.EqualFold(c.name, "value"):
				appendAvro(fb, ws, v)
			default:
				fb.AppendNull()
			}
		}
		rows++
		if rows%avroBatchRows == 0 {
			if err := ctx.Err(); err != nil {
				fw.Close()
				return err
			}
			if err := flush(); err != nil {
				fw.Close()
				return fmt.Errorf("parquet: %w", err)
			}
		}
	}
	if err := dec.Error(); err != nil {
		fw.Close()
		return fmt.Errorf("avro record %d: %w", rows, err)
	}
	if err := flush(); err != nil {
		fw.Close()
		return fmt.Errorf("parquet: %w", err)
	}
	if err := fw.Close(); err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	return nil
}

// avroAPI decodes values of up to 256 MiB (strings, bytes) and slices of
// up to 64 Mi elements; larger ones fail the file.
var avroAPI = avro.Config{MaxByteSliceSize: 256 << 20, MaxSliceAllocSize: 64 << 20}.Freeze()

// checkOCF walks the blocks of an object container file (magic, metadata,
// sync marker, then count, size, data and sync of each block) and fails
// if a length runs past the end of the file: the decoder would allocate
// whatever a corrupt length says. It leaves f at its start.
func checkOCF(f *os.File) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	r := bufio.NewReader(io.NewSectionReader(f, 0, info.Size()))
	pos := int64(0)
	long := func() (int64, error) {
		v, err := binary.ReadVarint(byteCounter{r, &pos})
		if err != nil {
			return 0, fmt.Errorf("avro: unreadable file at byte %d: %w", pos, err)
		}
		return v, nil
	}
	skip := func(n int64) error {
		if n < 0 || n > info.Size()-pos {
			return fmt.Errorf("avro: corrupt file: a length of %d at byte %d runs past its end (%d bytes)", n, pos, info.Size())
		}
		if _, err := r.Discard(int(n)); err != nil {
			return fmt.Errorf("avro: unreadable file: %w", err)
		}
		pos += n
		return nil
	}
	if err := skip(4); err != nil { // magic, checked by the decoder
		return err
	}
	for { // metadata map blocks
		n, err := long()
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		if n < 0 {
			n = -n
			if _, err := long(); err != nil {
				return err
			}
		}
		for range n {
			for range 2 { // key, value
				l, err := long()
				if err != nil {
					return err
				}
				if err := skip(l); err != nil {
					return err
				}
			}
		}
	}
	if err := skip(16); err != nil {
		return err
	}
	for pos < info.Size() {
		if _, err := long(); err != nil {
			return err
		}
		size, err := long()
		if err != nil {
			return err
		}
		if err := skip(size + 16); err != nil {
			return err
		}
	}
	_, err = f.Seek(0, io.SeekStart)
	return err
}

type byteCounter struct {
	r   *bufio.Reader
	pos *int64
}

func (b byteCounter) ReadByte() (byte, error) {
	c, err := b.r.ReadByte()
	if err == nil {
		*b.pos++
	}
	return c, err
}
