package clients

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// scoringUpstream is a small model-scoring server: GET /model/sample_request
// and POST /model/score. The score of a row is the sum of its numbers.
func scoringUpstream(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var scored atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /model/sample_request", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"fields": []string{"sepal_len", "petal_len"},
			"rows":   [][]string{{"5.1", "1.4"}, {"6.2", "4.5"}},
		})
	})
	score := func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Fields []string   `json:"fields"`
			Rows   [][]string `json:"rows"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Fields) == 0 {
			http.Error(w, `{"error":"body must be {"fields": [...], "rows": [[...]]}"}`, http.StatusBadRequest)
			return
		}
		score := make([][]string, len(req.Rows))
		for i, row := range req.Rows {
			var sum float64
			for _, v := range row {
				var f float64
				if _, err := fmt.Sscan(v, &f); err != nil {
					http.Error(w, fmt.Sprintf("row %d: %q is not a number", i, v), http.StatusBadRequest)
					return
				}
				sum += f
			}
			score[i] = []string{fmt.Sprintf("%g", sum)}
		}
		scored.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"id": "sum-model", "fields": []string{"score"}, "score": score})
	}
	mux.HandleFunc("POST /model/score", score)
	mux.HandleFunc("POST /batch/score", score)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &scored
}

func port(t *testing.T, url string) int {
	t.Helper()
	var p int
	if _, err := fmt.Sscanf(url, "http://127.0.0.1:%d", &p); err != nil {
		t.Fatalf("URL %s: %v", url, err)
	}
	return p
}

// hashPassphrase renders pbkdf2-sha256$<iterations>$<salt>$<hash> with
// unpadded standard base64 salt and hash.
func hashPassphrase(t *testing.T, passphrase string) string {
	t.Helper()
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	const iter = 100000 // as in the guide
	key, err := pbkdf2.Key(sha256.New, passphrase, salt, iter, 32)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", iter, enc.EncodeToString(salt), enc.EncodeToString(key))
}

func TestModelScoringWithH2OAuthn(t *testing.T) {
	t.Parallel()
	const aud = "api://scoring"
	op := startProvider(t, aud)
	python(t)
	const passphrase = "correct horse battery staple"
	cfg := `{
  "realm": "models",
  "providers": {
    "op": {"issuer": "` + op.Issuer + `", "audiences": ["` + aud + `"], "fetch": ` + op.fetchSettings() + `},
    "batch": {"type": "passphrase", "hashed_passphrase": "` + hashPassphrase(t, passphrase) + `"}
  },
  "rules": [
    {"match": {"prefix": "/healthz"}},
    {"match": {"prefix": "/batch/"}, "requires": {"providers": ["batch"]}},
    {"match": {"prefix": "/model/"}, "requires": {"providers": ["op"]}}
  ]
}`
	up, scored := scoringUpstream(t)
	base := startEnvoy(t, renderKeys(t, cfg), port(t, up.URL))

	t.Run("h2o_authn's TokenProvider refreshes a token and the client gets its score", func(t *testing.T) {
		start := time.Now()
		rt, err := runPy(t, "", op.pyEnv(), "", script(t, "refresh_token.py"), op.Issuer, "scoring-cli", "http://127.0.0.1/callback")
		if err != nil {
			t.Fatal(err)
		}
		out, err := runPy(t, "", op.pyEnv(), rt, script(t, "score.py"), base, op.Issuer+"/token", "scoring-cli")
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			ID    string     `json:"id"`
			Score [][]string `json:"score"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("score.py printed %q: %v", out, err)
		}
		if got.ID != "sum-model" || len(got.Score) != 2 || got.Score[0][0] != "6.5" || got.Score[1][0] != "10.7" {
			t.Fatalf("score = %+v, want sum-model with 6.5 and 10.7", got)
		}
		if scored.Load() != 1 {
			t.Fatalf("upstream scored %d times, want 1", scored.Load())
		}
		t.Logf("refresh-token flow and score: %v", time.Since(start).Round(time.Millisecond))
	})

	expired := op.expiredToken(t, aud)
	body := `{"fields":["a"],"rows":[["1"]]}`
	refusals := []struct {
		name, path, authorization string
		status                    int
		wwwAuth                   string
	}{
		{"no token gets 401 with a bare challenge", "/model/score", "", 401,
			`Bearer realm="models"`},
		{"an expired token gets 401 invalid_token", "/model/score", "Bearer " + expired, 401,
			`Bearer realm="models", error="invalid_token", error_description="token has expired"`},
		{"a token for another audience gets 401 invalid_token", "/model/score", "Bearer " + op.clientCredentials(t, "api://other"), 401,
			`Bearer realm="models", error="invalid_token", error_description="audience not accepted"`},
		{"a wrong passphrase gets 401 invalid_token", "/batch/score", "Bearer not the passphrase", 401,
			`Bearer realm="models", error="invalid_token", error_description="passphrase not accepted"`},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			before := scored.Load()
			r := do(t, http.MethodPost, base+tc.path, tc.authorization, body)
			if r.status != tc.status || r.wwwAuth != tc.wwwAuth {
				t.Fatalf("got %d %q, want %d %q", r.status, r.wwwAuth, tc.status, tc.wwwAuth)
			}
			if scored.Load() != before {
				t.Fatal("the refused request reached the upstream")
			}
		})
	}
	if t.Failed() {
		return
	}

	t.Run("a client-credentials token for the right audience is accepted", func(t *testing.T) {
		r := do(t, http.MethodPost, base+"/model/score", "Bearer "+op.clientCredentials(t, aud), body)
		if r.status != 200 {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
	t.Run("the right passphrase reaches the upstream", func(t *testing.T) {
		r := do(t, http.MethodPost, base+"/batch/score", "Bearer "+passphrase, body)
		if r.status != 200 || !strings.Contains(r.body, `"score":[["1"]]`) {
			t.Fatalf("got %d %q %s", r.status, r.wwwAuth, r.body)
		}
	})
}
