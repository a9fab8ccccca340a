// promcheck checks Prometheus rule files and PromQL expressions with Prometheus' own parser.
//
//	promcheck rules FILE...   validate rule group files (rulefmt, as Prometheus loads them);
//	                          prints {"file": ..., "errors": [...]} per file as JSON lines,
//	                          exits 1 when any file has an error.
//	promcheck metrics         reads a JSON list of PromQL expressions on stdin and prints a JSON
//	                          list of {"expr", "metrics", "error"}: the metric names each
//	                          expression selects, or the parse error with its position.
//	promcheck config FILE     loads FILE, a YAML list of scrape configs (what kube-prometheus-stack's
//	                          additionalScrapeConfigs holds), as the scrape_configs of a Prometheus
//	                          configuration with Prometheus' own strict loader; prints {"jobs": [...],
//	                          "error": ...} and exits 1 on an error.
//
// Only model/rulefmt, promql/parser and config (with the Kubernetes service discovery's configuration
// registered) are used; nothing is discovered, scraped or stored.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	_ "github.com/prometheus/prometheus/discovery/kubernetes" // registers kubernetes_sd_configs
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

type fileResult struct {
	File   string   `json:"file"`
	Groups int      `json:"groups"`
	Rules  int      `json:"rules"`
	Errors []string `json:"errors"`
}

type exprResult struct {
	Expr    string   `json:"expr"`
	Metrics []string `json:"metrics"`
	Error   string   `json:"error,omitempty"`
}

func newParser() parser.Parser {
	return parser.NewParser(parser.Options{})
}

func checkRules(files []string) int {
	status := 0
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	out := json.NewEncoder(os.Stdout)
	for _, file := range files {
		res := fileResult{File: file, Errors: []string{}}
		groups, errs := rulefmt.ParseFile(file, false, model.UTF8Validation, newParser(), logger)
		for _, err := range errs {
			res.Errors = append(res.Errors, err.Error())
		}
		if groups != nil {
			res.Groups = len(groups.Groups)
			for _, g := range groups.Groups {
				res.Rules += len(g.Rules)
			}
		}
		if len(res.Errors) > 0 {
			status = 1
		}
		if err := out.Encode(res); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	return status
}

// metricNames returns the sorted metric names an expression selects (by name or by a __name__ equality matcher).
func metricNames(expr parser.Expr) []string {
	seen := map[string]bool{}
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		if vs.Name != "" {
			seen[vs.Name] = true
			return nil
		}
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				seen[m.Value] = true
			}
		}
		return nil
	})
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func listMetrics(in io.Reader) int {
	var exprs []string
	if err := json.NewDecoder(in).Decode(&exprs); err != nil {
		fmt.Fprintf(os.Stderr, "promcheck metrics: stdin must be a JSON list of strings: %v\n", err)
		return 2
	}
	p := newParser()
	results := make([]exprResult, 0, len(exprs))
	for _, text := range exprs {
		res := exprResult{Expr: text, Metrics: []string{}}
		expr, err := p.ParseExpr(text)
		if err != nil {
			res.Error = err.Error()
		} else {
			res.Metrics = metricNames(expr)
		}
		results = append(results, res)
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}

type jobResult struct {
	JobName        string `json:"job_name"`
	MetricsPath    string `json:"metrics_path"`
	Scheme         string `json:"scheme"`
	ScrapeInterval string `json:"scrape_interval"`
}

type configResult struct {
	Jobs  []jobResult `json:"jobs"`
	Error string      `json:"error,omitempty"`
}

func checkScrapeConfigs(file string) int {
	data, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var text strings.Builder
	text.WriteString("scrape_configs:\n")
	for _, line := range strings.Split(string(data), "\n") {
		text.WriteString("  " + line + "\n")
	}
	res := configResult{Jobs: []jobResult{}}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, err := config.Load(text.String(), logger)
	if err == nil {
		var scrapeConfigs []*config.ScrapeConfig
		scrapeConfigs, err = cfg.GetScrapeConfigs()
		for _, sc := range scrapeConfigs {
			res.Jobs = append(res.Jobs, jobResult{
				JobName: sc.JobName, MetricsPath: sc.MetricsPath, Scheme: sc.Scheme,
				ScrapeInterval: sc.ScrapeInterval.String(),
			})
		}
	}
	status := 0
	if err != nil {
		res.Error = err.Error()
		status = 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return status
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: promcheck rules FILE... | promcheck metrics < exprs.json | promcheck config FILE")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "rules":
		os.Exit(checkRules(os.Args[2:]))
	case "metrics":
		os.Exit(listMetrics(os.Stdin))
	case "config":
		if len(os.Args) != 3 {
			fmt.Fprintln(os.Stderr, "usage: promcheck config FILE")
			os.Exit(2)
		}
		os.Exit(checkScrapeConfigs(os.Args[2]))
	default:
		fmt.Fprintf(os.Stderr, "promcheck: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
}
