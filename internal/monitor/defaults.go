package monitor

import "time"

// Names of the built-in alarms.
const (
	AlarmConsumerTimeLag  = "consumer-time-lag"
	AlarmSilentStall      = "silent-stall"
	AlarmDeadLetterRate   = "dead-letter-rate"
	AlarmCrawlerFailure   = "crawler-failure"
	AlarmQueryFailureRate = "query-failure-rate"
)

// StalledMetric is the series the Engine derives for the silent-stall alarm:
// streamlake_monitor_stalled{topic,table} is 1 while, over the stall window,
// the topic had records arriving (streamlake_ingest_records_total grew) or
// lag (streamlake_ingest_consumer_lag > 0 now) and its table committed no row
// (streamlake_etl_rows_committed_total and
// streamlake_etl_dead_letter_rows_total both flat), and 0 otherwise.
const StalledMetric = "streamlake_monitor_stalled"

// DefaultAlarms returns the built-in alarms for a config's StallWindow and
// SampleInterval. The silent-stall alarm is evaluated every sampling
// interval (rounded up to whole seconds) on StalledMetric, which turns to 1
// one stall window after commits stop: a stall reaches ALARM within the
// stall window plus two sampling intervals, and OK as soon after the ETL
// resumes. Alarms on metrics that no component exports yet (crawler, query)
// treat missing data as notBreaching, so they stay OK until there is data.
func DefaultAlarms(stallWindow, sampleInterval time.Duration) []AlarmSpec {
	stallPeriod := max(sampleInterval.Truncate(time.Second), time.Second)
	if stallPeriod < sampleInterval {
		stallPeriod += time.Second
	}
	log := Actions{Log: true}
	return []AlarmSpec{{
		Name:              AlarmConsumerTimeLag,
		Description:       "Records have waited in Kafka more than 5 minutes for 3 minutes in a row.",
		Metric:            "streamlake_ingest_time_lag_seconds",
		Statistic:         StatMax,
		Period:            time.Minute,
		EvaluationPeriods: 3,
		Comparison:        GreaterThan,
		Threshold:         300,
		TreatMissingData:  MissingNotBreaching,
		Actions:           log,
	}, {
		Name:              AlarmSilentStall,
		Description:       "A topic has had records arriving or lag for the stall window while its table committed no rows.",
		Metric:            StalledMetric,
		Statistic:         StatMax,
		Period:            stallPeriod,
		EvaluationPeriods: 1,
		Comparison:        GreaterThanOrEqual,
		Threshold:         1,
		TreatMissingData:  MissingNotBreaching,
		Actions:           log,
	}, {
		Name:              AlarmDeadLetterRate,
		Description:       "Records are going to dead-letter tables.",
		Metric:            "streamlake_etl_dead_letter_rows_total",
		Statistic:         StatRate,
		Period:            5 * time.Minute,
		EvaluationPeriods: 1,
		Comparison:        GreaterThan,
		Threshold:         0,
		TreatMissingData:  MissingNotBreaching,
		Actions:           log,
	}, {
		Name:              AlarmCrawlerFailure,
		Description:       "A crawler run failed.",
		Metric:            `streamlake_crawl_runs_total{result="error"}`,
		Statistic:         StatRate,
		Period:            5 * time.Minute,
		EvaluationPeriods: 1,
		Comparison:        GreaterThan,
		Threshold:         0,
		TreatMissingData:  MissingNotBreaching,
		Actions:           log,
	}, {
		Name:              AlarmQueryFailureRate,
		Description:       "More than 1 query a minute failed, in 2 of the last 3 periods of 5 minutes.",
		Metric:            `streamlake_query_executions_total{state="FAILED"}`,
		Statistic:         StatRate,
		Period:            5 * time.Minute,
		EvaluationPeriods: 3,
		DatapointsToAlarm: 2,
		Comparison:        GreaterThan,
		Threshold:         1.0 / 60,
		TreatMissingData:  MissingNotBreaching,
		Actions:           log,
	}}
}
