package monitor

import (
	"github.com/prometheus/client_golang/prometheus"
)

// WithRegisterer exports the engine's own metrics to reg:
// streamlake_monitor_alarm_state{alarm,state} (1 for the current state, 0
// for the others) and streamlake_monitor_webhook_deliveries_total{result}
// (ok, failed: after every attempt).
func WithRegisterer(reg prometheus.Registerer) Option {
	return func(e *Engine) { e.reg = reg }
}

var alarmStateDesc = prometheus.NewDesc("streamlake_monitor_alarm_state",
	"Alarm state: 1 for the alarm's current state, 0 for the others.", []string{"alarm", "state"}, nil)

// stateCollector reports alarm states at scrape time.
type stateCollector struct{ e *Engine }

func (c stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- alarmStateDesc }

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.e.States() {
		for _, st := range allStates {
			v := 0.0
			if s.State == st {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(alarmStateDesc, prometheus.GaugeValue, v, s.Name, string(st))
		}
	}
}

var allStates = []State{StateOK, StateAlarm, StateInsufficient}

func (e *Engine) registerMetrics() error {
	e.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "streamlake_monitor_webhook_deliveries_total", Help: "Alarm notifications POSTed to webhooks, by result after retries.",
	}, []string{"result"})
	if e.reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{stateCollector{e}, e.deliveries} {
		if err := e.reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
