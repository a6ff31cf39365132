package main

import (
	"encoding/json"
	"errors"
	"os"
	"time"
)

// baseline is the file CI compares a short run with (build/bench/baseline.json).
type baseline struct {
	// Recorded says when and how the ratios were measured.
	Recorded string `json:"recorded"`
	// Ratios are requests/s ratios keyed like "warm tokengate/jwt_authn".
	Ratios map[string]float64 `json:"ratios"`
	// MinFraction is how far below a recorded ratio a measurement may fall
	// before the check fails: 0.5 fails below half the recorded value.
	MinFraction float64 `json:"min_fraction"`
}

type checkResult struct {
	Key                       string
	Measured, Recorded, Floor float64
	OK                        bool
}

func readBaseline(path string) (baseline, error) {
	var b baseline
	data, err := os.ReadFile(path)
	if err != nil {
		return b, errors.New("benchrun: cannot read the baseline: " + err.Error() + "; record one with -write-baseline")
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return b, errors.New("benchrun: baseline " + path + " is not valid JSON: " + err.Error())
	}
	if len(b.Ratios) == 0 {
		return b, errors.New("benchrun: baseline " + path + " has no ratios; record one with -write-baseline")
	}
	if b.MinFraction <= 0 || b.MinFraction > 1 {
		return b, errors.New("benchrun: baseline " + path + ": min_fraction must be in (0, 1]")
	}
	return b, nil
}

// check compares measured ratios with the baseline. A ratio the baseline
// records but the run did not measure fails: a variant that could not run
// must not pass silently.
func (b baseline) check(measured map[string]float64) ([]checkResult, bool) {
	allOK := true
	var out []checkResult
	for _, k := range sortedKeys(b.Ratios) {
		c := checkResult{Key: k, Recorded: b.Ratios[k], Floor: b.Ratios[k] * b.MinFraction}
		m, ok := measured[k]
		c.Measured = m
		c.OK = ok && m >= c.Floor
		allOK = allOK && c.OK
		out = append(out, c)
	}
	return out, allOK
}

// writeBaseline records measured ratios for the keys CI checks (the Envoy
// comparisons), keeping the fraction of an existing file.
func writeBaseline(path string, measured map[string]float64, note string, now time.Time) error {
	b := baseline{MinFraction: 0.5, Ratios: map[string]float64{}}
	if old, err := readBaseline(path); err == nil {
		b.MinFraction = old.MinFraction
	}
	for _, sc := range scenarioOrder {
		for _, p := range baselinePairs {
			k := ratioKey(sc, p[0], p[1])
			if v, ok := measured[k]; ok {
				b.Ratios[k] = float64(int(v*100+0.5)) / 100
			}
		}
	}
	if len(b.Ratios) == 0 {
		return errors.New("benchrun: no Envoy ratios were measured; nothing to record")
	}
	b.Recorded = now.UTC().Format(time.RFC3339) + " " + note
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
