// Package promrules checks Prometheus alerting rules with Prometheus's own code, built as a Go test binary
// (scripts/promrules/promrules.sh): -rules FILE validates a rule file the way `promtool check rules` does
// (rulefmt: the YAML, every expression parsed, every label and annotation template parsed), and -script FILE
// runs a script in promqltest's language, the one Prometheus tests its PromQL engine with: series loaded
// over time, then expressions evaluated at an instant against the results they must give.
package promrules

import (
	"flag"
	"log/slog"
	"os"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
)

var (
	rulesFile  = flag.String("rules", "", "a Prometheus rule file to validate")
	scriptFile = flag.String("script", "", "a promqltest script to run")
)

func TestRules(t *testing.T) {
	if *rulesFile == "" && *scriptFile == "" {
		t.Fatal("give -rules FILE, -script FILE or both")
	}
	if *rulesFile != "" {
		logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
		groups, errs := rulefmt.ParseFile(*rulesFile, false, model.UTF8Validation, parser.NewParser(parser.Options{}), logger)
		for _, err := range errs {
			t.Error(err)
		}
		if groups != nil && len(groups.Groups) == 0 {
			t.Errorf("%s: no rule groups", *rulesFile)
		}
	}
	if *scriptFile != "" {
		script, err := os.ReadFile(*scriptFile)
		if err != nil {
			t.Fatal(err)
		}
		engine := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
		promqltest.RunTest(t, string(script), engine)
	}
}
