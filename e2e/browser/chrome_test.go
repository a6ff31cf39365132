package browser

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/tokengate/tokengate/internal/envoytest"
)

// chromium returns the Chromium binary: TOKENGATE_CHROMIUM, or Debian's
// /usr/bin/chromium (apt-get install chromium).
func chromium(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("TOKENGATE_CHROMIUM")
	if bin == "" {
		bin = "/usr/bin/chromium"
	}
	_, err := os.Stat(bin)
	envoytest.Need(t, err == nil, "no Chromium at "+bin+" (apt-get install chromium, or set TOKENGATE_CHROMIUM)")
	return bin
}

// browser is one headless Chromium with a profile of its own (its own
// cookie jar), and the requests it has sent.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu   sync.Mutex
	urls []string // every request URL, in order
}

// newBrowser starts Chromium (new headless mode; as root it needs
// --no-sandbox) and opens a tab; both end with the test.
func newBrowser(t *testing.T, bin string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", "new"),
		chromedp.NoSandbox,
		chromedp.WindowSize(1400, 900),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && e.Request != nil {
			b.mu.Lock()
			b.urls = append(b.urls, e.Request.URL)
			b.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return b
}

// do runs steps, failing the test after timeout.
func (b *browser) do(timeout time.Duration, what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		text, _ := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("body")))
		b.t.Fatalf("%s: %v\nthe browser is at %s, showing:\n%s", what, err, loc, clip(text, 2000))
	}
}

// location is the address of the page the browser shows.
func (b *browser) location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return loc
}

// text is the text of the page.
func (b *browser) text() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// screenshot captures the page as PNG.
func (b *browser) screenshot() []byte {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	return png
}

// cookies returns the browser's cookies for url, HttpOnly ones included
// (DevTools reads what scripts cannot).
func (b *browser) cookies(url string) map[string]string {
	b.t.Helper()
	res, err := chromedp.Run(b.ctx, func(ctx context.Context, t *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
	})
	if err != nil {
		b.t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range res.Cookies {
		out[c.Name] = c.Value
	}
	return out
}

// requested returns the first request URL with the given prefix.
func (b *browser) requested(prefix string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, u := range b.urls {
		if strings.HasPrefix(u, prefix) {
			return u
		}
	}
	return ""
}

// count returns how many request URLs have the given prefix.
func (b *browser) count(prefix string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, u := range b.urls {
		if strings.HasPrefix(u, prefix) {
			n++
		}
	}
	return n
}

// waitLocation waits until the page's address starts with prefix.
func waitLocation(prefix string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		for {
			loc, err := chromedp.Location()(ctx, t)
			if err == nil && strings.HasPrefix(loc, prefix) {
				return chromedp.Void{}, nil
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// cookieHeader renders cookies as a Cookie header.
func cookieHeader(cookies map[string]string, names ...string) string {
	var pairs []string
	for _, n := range names {
		if v, ok := cookies[n]; ok {
			pairs = append(pairs, n+"="+v)
		}
	}
	return strings.Join(pairs, "; ")
}

// sessionCookies lists the names of the session cookie and its chunks the
// browser holds.
func sessionCookies(cookies map[string]string) []string {
	var out []string
	for name := range cookies {
		if name == "__Host-tokengate" || strings.HasPrefix(name, "__Host-tokengate-") && name != "__Host-tokengate-state" {
			out = append(out, name)
		}
	}
	return out
}
