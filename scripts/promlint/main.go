// promlint reads Prometheus text exposition on stdin, parses it with the Prometheus project's own parser
// and lints it with the rules `promtool check metrics` applies. It prints what it parsed and every lint
// problem as one JSON document, so a test can compare the exposition with what it produced.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

type sample struct {
	Labels map[string]string `json:"labels"`
	Value  float64           `json:"value"`
	// Histograms: the sample count, sum and cumulative bucket counts by upper bound.
	Count   uint64            `json:"count,omitempty"`
	Sum     float64           `json:"sum,omitempty"`
	Buckets map[string]uint64 `json:"buckets,omitempty"`
}

type family struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Help    string   `json:"help"`
	Samples []sample `json:"samples"`
}

type problem struct {
	Metric string `json:"metric"`
	Text   string `json:"text"`
}

type report struct {
	Families []family  `json:"families"`
	Problems []problem `json:"problems"`
}

func labelsOf(metric *dto.Metric) map[string]string {
	labels := map[string]string{}
	for _, pair := range metric.GetLabel() {
		labels[pair.GetName()] = pair.GetValue()
	}
	return labels
}

func sampleOf(kind dto.MetricType, metric *dto.Metric) sample {
	s := sample{Labels: labelsOf(metric)}
	switch kind {
	case dto.MetricType_COUNTER:
		s.Value = metric.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		s.Value = metric.GetGauge().GetValue()
	case dto.MetricType_UNTYPED:
		s.Value = metric.GetUntyped().GetValue()
	case dto.MetricType_HISTOGRAM:
		histogram := metric.GetHistogram()
		s.Count = histogram.GetSampleCount()
		s.Sum = histogram.GetSampleSum()
		s.Buckets = map[string]uint64{}
		for _, bucket := range histogram.GetBucket() {
			s.Buckets[fmt.Sprint(bucket.GetUpperBound())] = bucket.GetCumulativeCount()
		}
	}
	return s
}

func main() {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	parsed, err := parser.TextToMetricFamilies(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "not valid Prometheus text:", err)
		os.Exit(2)
	}
	out := report{Families: []family{}, Problems: []problem{}}
	families := make([]*dto.MetricFamily, 0, len(parsed))
	for _, metricFamily := range parsed {
		families = append(families, metricFamily)
		f := family{Name: metricFamily.GetName(), Type: metricFamily.GetType().String(), Help: metricFamily.GetHelp()}
		for _, metric := range metricFamily.GetMetric() {
			f.Samples = append(f.Samples, sampleOf(metricFamily.GetType(), metric))
		}
		out.Families = append(out.Families, f)
	}
	problems, err := promlint.NewWithMetricFamilies(families).Lint()
	if err != nil {
		fmt.Fprintln(os.Stderr, "lint failed:", err)
		os.Exit(2)
	}
	for _, p := range problems {
		out.Problems = append(out.Problems, problem{Metric: p.Metric, Text: p.Text})
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
