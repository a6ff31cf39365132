package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tokengate/tokengate/plugin/internal/gate"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFinding = 1 // a refused request, lint findings, a refused configuration
	exitUsage   = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage:
  tokengate explain --config FILE [--token TOKEN | --token-file FILE|-] --request "METHOD /path?query" [--header name:value]... [--now RFC3339]
  tokengate lint --config FILE
`

// errUsage marks errors that are the caller's: exit status 2.
var errUsage = errors.New("usage")

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var (
		code int
		err  error
	)
	switch args[0] {
	case "explain":
		code, err = explain(args[1:], stdin, stdout, stderr)
	case "lint":
		code, err = lint(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		err = fmt.Errorf("%w: unknown command %q (want explain or lint)", errUsage, args[0])
	}
	if err != nil {
		fmt.Fprintln(stderr, "tokengate:", strings.TrimPrefix(err.Error(), "usage: "))
		if errors.Is(err, errUsage) {
			fmt.Fprint(stderr, usage)
			return exitUsage
		}
		return exitFinding
	}
	return code
}

// headerFlags collects repeated --header name:value flags.
type headerFlags [][2]string

func (h *headerFlags) String() string { return "" }

func (h *headerFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, ":")
	if !ok || strings.TrimSpace(name) == "" {
		return errors.New("want name:value, e.g. x-tenant:ml")
	}
	*h = append(*h, [2]string{strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)})
	return nil
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// readConfig reads and compiles nothing: it only loads the file, so that a
// missing file is a usage error and a refused configuration is not.
func readConfig(path string) ([]byte, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: --config is required", errUsage)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	return b, nil
}

func explain(args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	fs := newFlags("explain", stderr)
	var headers headerFlags
	configPath := fs.String("config", "", "the plugin configuration (JSON)")
	token := fs.String("token", "", "the bearer token (prefer --token-file: arguments are visible to other users)")
	tokenFile := fs.String("token-file", "", "a file holding the bearer token, or - for standard input")
	request := fs.String("request", "", `the request line, e.g. "POST /v2/models/iris/infer"`)
	at := fs.String("now", "", "the time to decide at (RFC 3339); default: now")
	fs.Var(&headers, "header", "a request header, name:value (repeatable); \"host:x\" sets the authority")
	if err := fs.Parse(args); err != nil {
		return 0, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return 0, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	config, err := readConfig(*configPath)
	if err != nil {
		return 0, err
	}
	method, target, ok := strings.Cut(strings.TrimSpace(*request), " ")
	if !ok || method == "" || target == "" {
		return 0, fmt.Errorf("%w: --request must be a method and a path, e.g. \"GET /v1/score\"", errUsage)
	}
	now := time.Now()
	if *at != "" {
		if now, err = time.Parse(time.RFC3339, *at); err != nil {
			return 0, fmt.Errorf("%w: --now: %v", errUsage, err)
		}
	}
	tok := *token
	switch {
	case tok != "" && *tokenFile != "":
		return 0, fmt.Errorf("%w: give --token or --token-file, not both", errUsage)
	case *tokenFile == "-":
		b, err := io.ReadAll(stdin)
		if err != nil {
			return 0, fmt.Errorf("%w: reading the token: %v", errUsage, err)
		}
		tok = strings.TrimSpace(string(b))
	case *tokenFile != "":
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return 0, fmt.Errorf("%w: %v", errUsage, err)
		}
		tok = strings.TrimSpace(string(b))
	}

	g, warnings, err := gate.Compile(config)
	for _, w := range warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if err != nil {
		return 0, fmt.Errorf("configuration refused: %v", err)
	}
	authority := "localhost"
	req := &gate.Request{}
	for _, h := range headers {
		if h[0] == "host" || h[0] == ":authority" {
			authority = h[1]
			continue
		}
		req.Headers = append(req.Headers, h)
	}
	req.Headers = append([][2]string{{":method", method}, {":path", target}, {":authority", authority}, {":scheme", "https"}}, req.Headers...)
	if tok != "" {
		req.Headers = append(req.Headers, [2]string{"authorization", "Bearer " + tok})
	}

	tr := g.Explain(req, now)
	printTrace(stdout, method, target, tr, tok)
	if tr.Decision.Allow && !tr.Decision.DryRun {
		return exitOK, nil
	}
	return exitFinding, nil
}

// printTrace writes a trace for people. secret (the token) is never
// printed; as a last line of defence it is masked should it ever appear in
// a step.
func printTrace(w io.Writer, method, target string, tr gate.Trace, secret string) {
	mask := func(s string) string {
		if secret != "" && len(secret) > 8 {
			s = strings.ReplaceAll(s, secret, "<token>")
		}
		return s
	}
	path, _, _ := strings.Cut(target, "?")
	fmt.Fprintf(w, "request:  %s %s\n", method, mask(path))
	if tr.Path != "" && tr.Path != path {
		fmt.Fprintf(w, "path:     %s (canonical form)\n", tr.Path)
	}
	switch {
	case tr.Rule >= 0:
		fmt.Fprintf(w, "rule:     rules[%d] %s\n", tr.Rule, tr.Match)
	case tr.Match != "":
		fmt.Fprintf(w, "rule:     %s\n", tr.Match)
	default:
		fmt.Fprintln(w, "rule:     none")
	}
	for _, c := range tr.Captures {
		fmt.Fprintf(w, "capture:  %s = %s\n", c[0], strconv.Quote(c[1]))
	}
	for _, s := range tr.Steps {
		mark := "ok  "
		if !s.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "check:    %s %s%s\n", mark, strings.Repeat("  ", s.Depth), mask(s.Check))
	}
	d := tr.Decision
	switch {
	case d.DryRun:
		fmt.Fprintf(w, "decision: allow (dry run; would deny with %d: %s [%s])\n", d.Status, d.Reason, d.Code)
	case d.Allow:
		line := "decision: allow"
		if d.Provider != "" {
			line += " (provider " + strconv.Quote(d.Provider) + ")"
		}
		fmt.Fprintln(w, line)
		for _, h := range d.SetHeaders {
			fmt.Fprintf(w, "upstream: sets %s\n", h[0])
		}
		if d.Path != "" {
			fmt.Fprintf(w, "upstream: path %s\n", mask(d.Path))
		}
		for _, p := range d.FilterState { // names only: the values are the token's claims
			fmt.Fprintf(w, "envoy:    filter state wasm.%s\n", p[0])
		}
	default:
		fmt.Fprintf(w, "decision: deny %d: %s [%s]\n", d.Status, d.Reason, d.Code)
		for _, h := range d.Headers {
			if h[0] == "www-authenticate" {
				fmt.Fprintf(w, "          www-authenticate: %s\n", h[1])
			}
		}
		if d.Detail != "" {
			fmt.Fprintf(w, "          detail: %s\n", mask(d.Detail))
		}
	}
}

func lint(args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlags("lint", stderr)
	configPath := fs.String("config", "", "the plugin configuration (JSON)")
	if err := fs.Parse(args); err != nil {
		return 0, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return 0, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	config, err := readConfig(*configPath)
	if err != nil {
		return 0, err
	}
	findings, err := gate.Lint(config)
	if err != nil {
		return 0, fmt.Errorf("configuration refused: %v", err)
	}
	for _, f := range findings {
		fmt.Fprintln(stdout, f)
	}
	if len(findings) > 0 {
		fmt.Fprintf(stdout, "%d finding(s)\n", len(findings))
		return exitFinding, nil
	}
	fmt.Fprintln(stdout, "no findings")
	return exitOK, nil
}
