package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// startMoto runs moto_server on a free port and returns its URL. A missing
// moto_server fails the test: the export is only proven against a server.
func startMoto(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Fatalf("moto_server is not installed (pip install 'moto[server]'); the CloudWatch export test needs it: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = awsEnv()
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("moto_server output:\n%s", logs.String())
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not answer on %s within 30s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// awsEnv is the environment of the AWS CLI: test credentials and nothing
// from the machine's own AWS configuration.
func awsEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
}

type statsQuery struct{ metric, dimName, dimValue string }

// getStats reads metrics back with the AWS CLI, a client nobody here wrote,
// running the queries side by side (each CLI start costs seconds). It
// reports failures with t.Error and returns nil.
func getStats(t *testing.T, url, ns string, from, to time.Time, qs ...statsQuery) [][]map[string]any {
	t.Helper()
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Errorf("the AWS CLI (aws) is not installed; the CloudWatch export test reads back with it: %v", err)
		return nil
	}
	out := make([][]map[string]any, len(qs))
	errs := make([]error, len(qs))
	var wg sync.WaitGroup
	for i, q := range qs {
		wg.Go(func() {
			cmd := exec.Command(aws, "cloudwatch", "get-metric-statistics", "--endpoint-url", url, "--region", "us-east-1",
				"--namespace", ns, "--metric-name", q.metric, "--dimensions", "Name="+q.dimName+",Value="+q.dimValue,
				"--start-time", from.UTC().Format(time.RFC3339), "--end-time", to.UTC().Format(time.RFC3339),
				"--period", "60", "--statistics", "Sum", "Maximum", "SampleCount", "--output", "json")
			cmd.Env = awsEnv()
			b, err := cmd.CombinedOutput()
			if err != nil {
				errs[i] = fmt.Errorf("aws cloudwatch get-metric-statistics %v: %w\n%s", q, err, b)
				return
			}
			var resp struct{ Datapoints []map[string]any }
			if err := json.Unmarshal(b, &resp); err != nil {
				errs[i] = fmt.Errorf("get-metric-statistics output: %w\n%s", err, b)
				return
			}
			out[i] = resp.Datapoints
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Error(err) // not Fatal: callers may run this off the test goroutine
		return nil
	}
	return out
}

// getMetricData reads the Maximum of several single-dimension metrics in
// one AWS CLI call (get-metric-data), returning each query's values.
func getMetricData(t *testing.T, url, ns string, from, to time.Time, qs ...statsQuery) map[string][]float64 {
	t.Helper()
	type dim struct{ Name, Value string }
	type query struct {
		Id         string
		MetricStat struct {
			Metric struct {
				Namespace  string
				MetricName string
				Dimensions []dim
			}
			Period int
			Stat   string
		}
	}
	var queries []query
	for i, q := range qs {
		var mq query
		mq.Id = fmt.Sprintf("q%d", i)
		mq.MetricStat.Metric.Namespace, mq.MetricStat.Metric.MetricName = ns, q.metric
		mq.MetricStat.Metric.Dimensions = []dim{{q.dimName, q.dimValue}}
		mq.MetricStat.Period, mq.MetricStat.Stat = 60, "Maximum"
		queries = append(queries, mq)
	}
	js, _ := json.Marshal(queries)
	cmd := exec.Command("aws", "cloudwatch", "get-metric-data", "--endpoint-url", url, "--region", "us-east-1",
		"--metric-data-queries", string(js), "--start-time", from.UTC().Format(time.RFC3339), "--end-time", to.UTC().Format(time.RFC3339),
		"--output", "json")
	cmd.Env = awsEnv()
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws cloudwatch get-metric-data: %v\n%s", err, b)
	}
	var resp struct {
		MetricDataResults []struct {
			Id     string
			Values []float64
		}
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		t.Fatalf("get-metric-data output: %v\n%s", err, b)
	}
	out := map[string][]float64{}
	for _, r := range resp.MetricDataResults {
		var i int
		fmt.Sscanf(r.Id, "q%d", &i)
		out[qs[i].dimValue] = r.Values
	}
	return out
}

func TestCloudWatchExportToMoto(t *testing.T) {
	t.Parallel()
	began := time.Now()
	url := startMoto(t)
	t.Logf("moto_server up after %s", time.Since(began).Round(time.Millisecond))
	ctx := context.Background()
	cw, err := NewCloudWatch(ctx, CloudWatchConfig{Namespace: "streamlake/test", Region: "us-east-1", Endpoint: url, Interval: time.Minute},
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
		awsconfig.WithSharedConfigFiles(nil), awsconfig.WithSharedCredentialsFiles(nil))
	if err != nil {
		t.Fatal(err)
	}
	minute := time.Now().UTC().Truncate(time.Minute).Add(-5 * time.Minute)
	// 1,050 series and 2 alarm states in one minute: two PutMetricData calls (at most 1000 datums each).
	var b Batch
	b.Time = minute
	for i := range 1050 {
		labels := map[string]string{"topic": fmt.Sprintf("t%04d", i), "empty": ""}
		b.Points = append(b.Points, SeriesPoint{Key: seriesKey("streamlake_ingest_records_total", labels), Name: "streamlake_ingest_records_total",
			Labels: labels, MinutePoint: MinutePoint{T: minute, V: float64(i)}})
	}
	b.Alarms = []AlarmStatus{{Name: "silent-stall", State: StateAlarm}, {Name: "consumer-time-lag", State: StateOK}, {Name: "new", State: StateInsufficient}}
	if err := cw.Export(ctx, b); err != nil {
		t.Fatalf("export: %v", err)
	}
	if cw.calls != 2 || len(cw.pending) != 0 {
		t.Fatalf("PutMetricData calls = %d, pending %d; want 2 calls (1052 datums, 1000 per call), none pending", cw.calls, len(cw.pending))
	}
	// A second minute of one series.
	next := minute.Add(time.Minute)
	b2 := Batch{Time: next, Points: []SeriesPoint{{Name: "streamlake_ingest_records_total", Labels: map[string]string{"topic": "t1049"}, MinutePoint: MinutePoint{T: next, V: 10}}}}
	if err := cw.Export(ctx, b2); err != nil {
		t.Fatalf("export: %v", err)
	}

	t.Logf("exported after %s", time.Since(began).Round(time.Millisecond))
	from, to := minute.Add(-time.Minute), next.Add(2*time.Minute)
	var res [][]map[string]any
	var data map[string][]float64
	var wg sync.WaitGroup
	wg.Go(func() {
		res = getStats(t, url, "streamlake/test", from, to, statsQuery{"streamlake_ingest_records_total", "topic", "t1049"})
	})
	data = getMetricData(t, url, "streamlake/test", from, to,
		statsQuery{"streamlake_ingest_records_total", "topic", "t0500"},
		statsQuery{AlarmStateMetric, "AlarmName", "silent-stall"},
		statsQuery{AlarmStateMetric, "AlarmName", "consumer-time-lag"},
		statsQuery{AlarmStateMetric, "AlarmName", "new"},
	)
	wg.Wait()
	if res == nil {
		t.FailNow()
	}
	t.Logf("read back after %s", time.Since(began).Round(time.Millisecond))
	dps := res[0]
	if len(dps) != 2 {
		t.Fatalf("t1049 (last batch): %d datapoints, want 2: %v", len(dps), dps)
	}
	sum := 0.0
	for _, d := range dps {
		sum += d["Sum"].(float64)
	}
	if sum != 1049+10 {
		t.Fatalf("t1049: sum %v, want 1059: %v", sum, dps)
	}
	want := map[string][]float64{"t0500": {500}, "silent-stall": {1}, "consumer-time-lag": {0}, "new": nil}
	for k, w := range want {
		if !slices.Equal(data[k], w) {
			t.Errorf("get-metric-data %s: %v, want %v", k, data[k], w)
		}
	}
}
