package monitor

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
)

// AlarmStateMetric is the CloudWatch metric the exporter writes alarm states
// to, with dimension AlarmName: 1 for ALARM, 0 for OK, no datapoint for
// INSUFFICIENT_DATA.
const AlarmStateMetric = "streamlake_alarm_state"

// maxDatums is PutMetricData's limit of datums per call.
const maxDatums = 1000

// CloudWatch exports 1-minute datapoints and alarm states to AWS CloudWatch
// with PutMetricData, in batches of at most 1000 datums. Each series becomes
// a metric of its name with its labels as dimensions (at most 30; empty
// labels are dropped). It is an Exporter; use it from one goroutine.
type CloudWatch struct {
	client    *cloudwatch.Client
	namespace string
	interval  time.Duration
	pending   []types.MetricDatum
	lastSent  time.Time
	calls     int // PutMetricData calls made
}

// NewCloudWatch returns an exporter for cfg, with credentials from the usual
// AWS chain (environment, shared config, instance role); opts can override
// what LoadDefaultConfig loads (e.g. awsconfig.WithCredentialsProvider).
func NewCloudWatch(ctx context.Context, cfg CloudWatchConfig, opts ...func(*awsconfig.LoadOptions) error) (*CloudWatch, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, append([]func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(cfg.Region)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("monitor: cloudwatch: load AWS config: %w", err)
	}
	client := cloudwatch.NewFromConfig(awsCfg, func(o *cloudwatch.Options) {
		// The AWS Query protocol, which CloudWatch has always served, rather
		// than the SDK's default RPCv2 CBOR: emulators (moto, LocalStack) and
		// proxies speak it, and it is what the moto test proves.
		o.Protocol = awsquery.New(schemas.GraniteServiceVersion20100801)
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	return &CloudWatch{client: client, namespace: cfg.Namespace, interval: max(cfg.Interval, time.Minute)}, nil
}

// Export queues the batch's datums and sends everything queued once an
// interval has passed since the last send. After a failed send the datums
// stay queued (at most 100 000, the oldest dropped first) for the next one.
func (c *CloudWatch) Export(ctx context.Context, b Batch) error {
	c.pending = append(c.pending, datums(b)...)
	if over := len(c.pending) - 100_000; over > 0 {
		c.pending = c.pending[over:]
	}
	if b.Time.Sub(c.lastSent) < c.interval-time.Minute {
		return nil
	}
	if err := c.Flush(ctx); err != nil {
		return err
	}
	c.lastSent = b.Time
	return nil
}

// Flush sends every queued datum now.
func (c *CloudWatch) Flush(ctx context.Context) error {
	for len(c.pending) > 0 {
		n := min(len(c.pending), maxDatums)
		_, err := c.client.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
			Namespace:  aws.String(c.namespace),
			MetricData: c.pending[:n],
		})
		c.calls++
		if err != nil {
			return fmt.Errorf("monitor: cloudwatch PutMetricData %s (%d datums): %w", c.namespace, n, err)
		}
		c.pending = c.pending[n:]
	}
	return nil
}

func datums(b Batch) []types.MetricDatum {
	out := make([]types.MetricDatum, 0, len(b.Points)+len(b.Alarms))
	for _, p := range b.Points {
		if math.IsNaN(p.V) || math.IsInf(p.V, 0) {
			continue
		}
		out = append(out, types.MetricDatum{
			MetricName: aws.String(p.Name),
			Dimensions: dimensions(p.Labels),
			Timestamp:  aws.Time(p.T),
			Value:      aws.Float64(p.V),
			Unit:       types.StandardUnitNone,
		})
	}
	for _, a := range b.Alarms {
		v := 0.0
		switch a.State {
		case StateAlarm:
			v = 1
		case StateOK:
		default:
			continue
		}
		out = append(out, types.MetricDatum{
			MetricName: aws.String(AlarmStateMetric),
			Dimensions: []types.Dimension{{Name: aws.String("AlarmName"), Value: aws.String(a.Name)}},
			Timestamp:  aws.Time(b.Time),
			Value:      aws.Float64(v),
			Unit:       types.StandardUnitNone,
		})
	}
	return out
}

func dimensions(labels map[string]string) []types.Dimension {
	names := make([]string, 0, len(labels))
	for k, v := range labels {
		if v != "" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	if len(names) > 30 {
		names = names[:30]
	}
	out := make([]types.Dimension, 0, len(names))
	for _, k := range names {
		out = append(out, types.Dimension{Name: aws.String(k), Value: aws.String(labels[k])})
	}
	return out
}
