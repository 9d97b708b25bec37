// Package monitor samples the process's Prometheus registry, keeps metric
// and alarm history in a data directory, evaluates alarms with CloudWatch
// semantics and optionally exports to AWS CloudWatch.
//
// An alarm (AlarmSpec) turns the samples of each period into one datapoint
// with a statistic (avg, min, max, sum, p99, rate) and decides, at every
// period boundary, between OK, ALARM and INSUFFICIENT_DATA from the datapoints
// of its evaluation range: M of the last N breaching, with missing data
// treated as missing, ignore, breaching or notBreaching exactly as the
// CloudWatch documentation's tables say (see decide and
// testdata/truth_table.txt). A new alarm starts in INSUFFICIENT_DATA. Actions
// (webhooks, a log line) run on transitions only, never while a state holds;
// webhooks are retried with backoff and delivered in order by one worker, so
// a slow receiver never delays evaluation.
//
// The Engine owns its history directory: 1-minute datapoints of every series
// (bounded by Config.MaxSeries and Config.HistoryRetention), alarm
// transitions, and alarm states, all reloaded by the next Engine. Run must be
// called once; States, History, Series and Datapoints are safe to call from
// any goroutine. Errors name the operation; a history write that fails is
// logged and evaluation goes on.
package monitor
