// helmcheck lints a Helm chart with Helm's own lint action, renders it with Helm's install action in
// client-only dry-run mode (what `helm template` does), and decodes every rendered object strictly into the
// Go type of its kind: a field the type does not have (misspelt, misplaced, or from another API version)
// fails, as the API server would refuse it. It prints one JSON report for the tests.
//
//	helmcheck [--release NAME] [--namespace NS] CHART [CASE ...]
//
// Each CASE is a comma-separated list of values files layered over the chart's values.yaml, like
// `helm template -f a.yaml -f b.yaml`; the chart's own values alone are always the first case, "default".
// Exit status: 0 when every case lints without warnings or errors, renders, and decodes; 1 when one does
// not (the report says which and why); 2 when the command line or the chart cannot be read at all.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"
	"helm.sh/helm/v3/pkg/lint/support"
)

type lintMessage struct {
	Severity string `json:"severity"`
	Path     string `json:"path"`
	Message  string `json:"message"`
}

type lintReport struct {
	OK       bool          `json:"ok"`
	Messages []lintMessage `json:"messages"`
}

type object struct {
	// Source is the template the object came from, e.g. streamscore/templates/deployment.yaml.
	Source     string `json:"source"`
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	// Type is the Go type the object was decoded into; empty when no type is known for its kind.
	Type string `json:"type"`
	// Error is why the strict decoding failed; empty when it succeeded.
	Error    string `json:"error,omitempty"`
	Manifest string `json:"manifest"`
}

type renderReport struct {
	OK      bool     `json:"ok"`
	Error   string   `json:"error,omitempty"`
	Objects []object `json:"objects"`
	Notes   string   `json:"notes"`
}

type caseReport struct {
	Name   string       `json:"name"`
	Values []string     `json:"values"`
	OK     bool         `json:"ok"`
	Lint   lintReport   `json:"lint"`
	Render renderReport `json:"render"`
}

type report struct {
	Chart string       `json:"chart"`
	OK    bool         `json:"ok"`
	Cases []caseReport `json:"cases"`
}

var severities = map[int]string{
	support.UnknownSev: "UNKNOWN",
	support.InfoSev:    "INFO",
	support.WarningSev: "WARNING",
	support.ErrorSev:   "ERROR",
}

func mergeValues(files []string) (map[string]interface{}, error) {
	options := values.Options{ValueFiles: files}
	// No getter providers: values files are local paths, never URLs.
	return options.MergeValues(getter.Providers{})
}

func lint(chartPath, namespace string, vals map[string]interface{}) lintReport {
	linter := action.NewLint()
	linter.Namespace = namespace
	result := linter.Run([]string{chartPath}, vals)
	out := lintReport{OK: true, Messages: []lintMessage{}}
	for _, message := range result.Messages {
		out.Messages = append(out.Messages, lintMessage{
			Severity: severities[message.Severity],
			Path:     message.Path,
			Message:  message.Err.Error(),
		})
		// `helm lint --strict`: a warning fails too.
		if message.Severity >= support.WarningSev {
			out.OK = false
		}
	}
	for _, err := range result.Errors {
		if result.TotalChartsLinted == 0 {
			out.Messages = append(out.Messages, lintMessage{Severity: "ERROR", Message: err.Error()})
		}
		out.OK = false
	}
	return out
}

var sourceLine = regexp.MustCompile(`(?m)^# Source: (.+)$`)
var separator = regexp.MustCompile(`(?m)^---\s*$`)

// documents splits a rendered manifest into its YAML documents, each with the template it came from.
func documents(manifest string) []object {
	var out []object
	for _, doc := range separator.Split(manifest, -1) {
		source := ""
		if match := sourceLine.FindStringSubmatch(doc); match != nil {
			source = strings.TrimSpace(match[1])
		}
		body := strings.TrimSpace(sourceLine.ReplaceAllString(doc, ""))
		if body == "" {
			continue
		}
		out = append(out, object{Source: source, Manifest: body + "\n"})
	}
	return out
}

func render(chartPath, release, namespace string, vals map[string]interface{}) renderReport {
	out := renderReport{Objects: []object{}}
	chrt, err := loader.Load(chartPath)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	install := action.NewInstall(&action.Configuration{Log: func(string, ...interface{}) {}})
	install.DryRun = true
	install.DryRunOption = "client"
	install.ClientOnly = true // no cluster: Helm's default capabilities, an in-memory release store
	install.Replace = true
	install.ReleaseName = release
	install.Namespace = namespace
	rel, err := install.Run(chrt, vals)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.Notes = rel.Info.Notes
	manifest := rel.Manifest
	for _, hook := range rel.Hooks {
		manifest += fmt.Sprintf("\n---\n# Source: %s\n%s\n", hook.Path, hook.Manifest)
	}
	out.OK = true
	for _, obj := range documents(manifest) {
		decodeStrict(&obj)
		if obj.Error != "" {
			out.OK = false
		}
		out.Objects = append(out.Objects, obj)
	}
	return out
}

func run(chartPath, release, namespace string, cases [][]string) report {
	out := report{Chart: chartPath, OK: true}
	for _, files := range cases {
		name := "default"
		if len(files) > 0 {
			name = strings.Join(files, ",")
		}
		c := caseReport{Name: name, Values: files}
		if c.Values == nil {
			c.Values = []string{}
		}
		vals, err := mergeValues(files)
		if err != nil {
			c.Lint = lintReport{Messages: []lintMessage{{Severity: "ERROR", Path: name, Message: err.Error()}}}
			c.Render = renderReport{Error: err.Error(), Objects: []object{}}
		} else {
			c.Lint = lint(chartPath, namespace, vals)
			c.Render = render(chartPath, release, namespace, vals)
		}
		c.OK = c.Lint.OK && c.Render.OK
		out.OK = out.OK && c.OK
		out.Cases = append(out.Cases, c)
	}
	return out
}

func main() {
	flags := flag.NewFlagSet("helmcheck", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	release := flags.String("release", "streamscore", "release name")
	namespace := flags.String("namespace", "default", "release namespace")
	usage := "usage: helmcheck [--release NAME] [--namespace NS] CHART [VALUES[,VALUES...] ...]\n" +
		"  lints and renders CHART with its own values, then once per argument with those values files on top;\n" +
		"  prints a JSON report; exit 0 = all clean, 1 = a case failed, 2 = bad usage"
	if err := flags.Parse(os.Args[1:]); err != nil || flags.NArg() < 1 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	chartPath := flags.Arg(0)
	if _, err := os.Stat(chartPath + "/Chart.yaml"); err != nil {
		fmt.Fprintf(os.Stderr, "helmcheck: %s is not a chart folder (no Chart.yaml)\n", chartPath)
		os.Exit(2)
	}
	cases := [][]string{nil}
	for _, arg := range flags.Args()[1:] {
		files := strings.Split(arg, ",")
		for _, file := range files {
			if _, err := os.Stat(file); err != nil {
				fmt.Fprintf(os.Stderr, "helmcheck: values file %s: %v\n", file, err)
				os.Exit(2)
			}
		}
		cases = append(cases, files)
	}
	out := run(chartPath, *release, *namespace, cases)
	encoder := json.NewEncoder(os.Stdout)
	encoder.SetIndent("", "  ")
	if err := encoder.Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if !out.OK {
		os.Exit(1)
	}
}
