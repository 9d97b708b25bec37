package produce

import (
	crand "crypto/rand"
	"encoding/base32"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Dataset names accepted by Config.Dataset.
const (
	DatasetSensors = "sensors"
	DatasetOrders  = "orders"
)

// Datasets lists the synthetic datasets in the order help text shows them.
var datasets = []string{DatasetSensors, DatasetOrders}

// idOffset is where the id starts in every record: each begins {"id":".
const idOffset = len(`{"id":"`)

// tsSpan is how far back record timestamps reach from the generator's start time.
const tsSpan = 48 * time.Hour

// newRunID returns 8 random lowercase base32 characters (40 bits), the
// per-run prefix that keeps record ids unique across runs.
func newRunID() (string, error) {
	var b [5]byte
	if _, err := crand.Read(b[:]); err != nil {
		return "", fmt.Errorf("produce: run id: %w", err)
	}
	return base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").EncodeToString(b[:]), nil
}

// Generator appends synthetic records as JSON objects. It is deterministic:
// the same dataset, seed, run id and start time give the same records. It is
// not safe for concurrent use.
type Generator struct {
	rng    *rand.Rand
	runID  string
	seq    uint64
	endMs  int64 // newest possible ts, Unix ms
	spanMs int64
	next   func(g *Generator, dst []byte) []byte
}

// NewGenerator returns a generator for dataset. Record ids are runID, a
// dash and a sequence number starting at 1, so a runID that differs per run
// makes ids unique across runs. Timestamps fall in the 48 hours before now.
func NewGenerator(dataset string, seed int64, runID string, now time.Time) (*Generator, error) {
	g := &Generator{
		rng:    rand.New(rand.NewPCG(uint64(seed), 0x5eed_c0ffee)),
		runID:  runID,
		endMs:  now.UnixMilli(),
		spanMs: tsSpan.Milliseconds(),
	}
	switch dataset {
	case DatasetSensors:
		g.next = (*Generator).appendSensor
	case DatasetOrders:
		g.next = (*Generator).appendOrder
	default:
		return nil, datasetError(dataset)
	}
	return g, nil
}

// Append appends the next record to dst and returns the extended slice and
// the record id, which aliases the returned slice.
func (g *Generator) Append(dst []byte) (out, id []byte) {
	g.seq++
	start := len(dst)
	out = g.next(g, dst)
	idStart := start + idOffset
	idEnd := idStart + len(g.runID) + 1 + seqDigits(g.seq)
	return out, out[idStart:idEnd:idEnd]
}

func (g *Generator) appendHead(dst []byte) []byte {
	dst = append(dst, `{"id":"`...)
	dst = append(dst, g.runID...)
	dst = append(dst, '-')
	dst = appendPadded(dst, g.seq, seqWidth)
	dst = append(dst, `","ts":"`...)
	dst = appendTimestamp(dst, g.endMs-g.rng.Int64N(g.spanMs))
	return append(dst, '"')
}

var (
	sites    = []string{"ams-1", "ber-1", "fra-2", "lon-1", "nyc-3", "sfo-1", "sin-1", "syd-2"}
	siteTemp = []int64{1100, 1000, 1200, 1300, 1500, 1800, 2900, 2200} // centi-degrees
)

const numDevices = 1000

func (g *Generator) appendSensor(dst []byte) []byte {
	r := g.rng
	dev := r.IntN(numDevices)
	site := dev % len(sites)
	dst = g.appendHead(dst)
	dst = append(dst, `,"device":"dev-`...)
	dst = appendPadded(dst, uint64(dev), 4)
	dst = append(dst, `","site":"`...)
	dst = append(dst, sites[site]...)
	dst = append(dst, `","temperature":`...)
	dst = appendFixed2(dst, siteTemp[site]+r.Int64N(1601)-800) // ±8 °C around the site's mean
	dst = append(dst, `,"humidity":`...)
	dst = appendFixed1(dst, 200+r.Int64N(751)) // 20.0–95.0 %
	dst = append(dst, `,"battery":`...)
	dst = strconv.AppendInt(dst, int64(r.IntN(101)), 10)
	dst = append(dst, `,"status":"`...)
	switch p := r.IntN(100); {
	case p < 90:
		dst = append(dst, "ok"...)
	case p < 97:
		dst = append(dst, "warn"...)
	default:
		dst = append(dst, "error"...)
	}
	return append(dst, `"}`...)
}

var (
	firstNames = []string{"Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Frances", "Dennis", "Zoë", "Niklaus"}
	lastNames  = []string{"Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson", "Allen", "Ritchie", "Müller", "O'Brien", "Wirth"}
	tiers      = []string{"bronze", "silver", "gold", "platinum"}
	countries  = []struct{ country, currency string }{
		{"DE", "EUR"}, {"FR", "EUR"}, {"NL", "EUR"}, {"ES", "EUR"}, {"US", "USD"}, {"GB", "GBP"}, {"JP", "JPY"}, {"SE", "SEK"},
	}
)

const (
	numCustomers = 5000
	numSKUs      = 2000
)

func (g *Generator) appendOrder(dst []byte) []byte {
	r := g.rng
	cust := r.IntN(numCustomers)
	dst = g.appendHead(dst)
	dst = append(dst, `,"customer":{"id":"c-`...)
	dst = appendPadded(dst, uint64(cust), 5)
	dst = append(dst, `","name":"`...)
	dst = append(dst, firstNames[cust%len(firstNames)]...)
	dst = append(dst, ' ')
	dst = append(dst, lastNames[(cust/len(firstNames))%len(lastNames)]...)
	dst = append(dst, `","tier":"`...)
	dst = append(dst, tiers[(cust*7)%len(tiers)]...)
	dst = append(dst, `"},"items":[`...)
	var total int64 // cents
	for i, n := 0, 1+r.IntN(5); i < n; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		sku := r.IntN(numSKUs)
		qty := int64(1 + r.IntN(4))
		price := skuPrice(sku)
		total += qty * price
		dst = append(dst, `{"sku":"SKU-`...)
		dst = appendPadded(dst, uint64(sku), 5)
		dst = append(dst, `","qty":`...)
		dst = strconv.AppendInt(dst, qty, 10)
		dst = append(dst, `,"price":`...)
		dst = appendFixed2(dst, price)
		dst = append(dst, '}')
	}
	cc := countries[cust%len(countries)]
	dst = append(dst, `],"total":`...)
	dst = appendFixed2(dst, total)
	dst = append(dst, `,"currency":"`...)
	dst = append(dst, cc.currency...)
	dst = append(dst, `","country":"`...)
	dst = append(dst, cc.country...)
	return append(dst, `"}`...)
}

// skuPrice is a fixed price in cents per SKU, 0.99 to 249.99.
func skuPrice(sku int) int64 {
	h := uint64(sku)*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019
	h ^= h >> 29
	return int64(h%250)*100 + 99
}
