package console_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/phonebook/phonebook"
	"github.com/phonebook/phonebook/web/console"
)

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// screenshotDir is where PHONEBOOK_SCREENSHOTS=1 writes the README's
// pictures of the console.
const screenshotDir = "../../docs/console"

// TestBrowser drives the console in headless Chromium against the whole
// router on a real SQLite store, as a support person would: sign in, find
// a customer by a number written differently from how it was stored, open
// it from the keyboard, add a phone, make it the primary, and read the
// change in the history; then import a file and read a webhook's log.
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: .ci/run installs Debian's chromium for this test", chromiumPath)
		}
		t.Skipf("%s is missing (apt-get install chromium): skipping the browser test", chromiumPath)
	}
	shots := os.Getenv("PHONEBOOK_SCREENSHOTS") == "1"

	e := newEnv(t, console.Options{})
	ada := seedBrowser(t, e)
	hooks, err := e.svc.Webhooks(e.a.ctx)
	if err != nil || len(hooks) == 0 {
		t.Fatalf("webhooks: %v", err)
	}

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	defer cancelAlloc()

	// Everything the page logs: a CSP violation or a script error fails
	// the test (the pages allow no inline script or style).
	var mu sync.Mutex
	var problems []string
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithListener(func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *cdplog.EventEntryAdded:
			if ev.Entry != nil && (ev.Entry.Level == cdplog.EntryLevelError || strings.Contains(ev.Entry.Text, "Content Security Policy")) {
				problems = append(problems, fmt.Sprintf("log %s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Text)
		}
	}))
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelTimeout()

	base := e.srv.URL
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	// waitFor polls a JavaScript condition (the page changes after htmx or
	// a navigation).
	// A navigation may be under way: an evaluation that fails is tried
	// again until the deadline.
	waitFor := func(step, cond string, timeout ...time.Duration) {
		t.Helper()
		deadline := time.Now().Add(append(timeout, 15*time.Second)[0])
		var err error
		for time.Now().Before(deadline) {
			var ok bool
			if ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+cond+`)`)); err == nil && ok {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		t.Fatalf("%s: waiting for %s: %v\npage: %.1500s", step, cond, err, body)
	}
	eval := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return v
	}
	// shot saves the whole page, or what the window shows when the page
	// is long (the delivery log).
	shot := func(name string, whole ...bool) {
		t.Helper()
		if !shots {
			return
		}
		capture := chromedp.FullScreenshot(100)
		if len(whole) > 0 && !whole[0] {
			capture = chromedp.CaptureScreenshot()
		}
		png, err := chromedp.Run(ctx, capture)
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(screenshotDir, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	textHas := func(s string) string {
		return fmt.Sprintf(`document.body && document.body.innerText.includes(%q)`, s)
	}

	// Sign in: the search page sends to the sign-in form; the key is typed
	// and sent with Enter.
	do("open the console", chromedp.Navigate(base+"/console/search"))
	if _, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	do("sign-in form", chromedp.WaitVisible(chromedp.ID("key")))
	if got := eval(`location.pathname`); got != "/console/login" {
		t.Fatalf("without a session the console shows %s, want the sign-in page", got)
	}
	if got := eval(`document.activeElement.id`); got != "key" {
		t.Errorf("focus on the sign-in page is on %q, want the key input", got)
	}
	shot("login.png")
	do("sign in",
		chromedp.SendKeys(chromedp.ID("key"), e.a.write),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.ID("q")),
	)
	if v := eval(`typeof htmx === "object" ? htmx.version : ""`); v != console.HTMXVersion {
		t.Fatalf("htmx version on the page %q, want %s", v, console.HTMXVersion)
	}
	if got := eval(`document.cookie`); strings.Contains(got, "pb_console") {
		t.Error("the session cookie is readable from JavaScript")
	}

	// Search by the number written another way: results come as you type.
	do("type a number", chromedp.SendKeys(chromedp.ID("q"), "504.555.0123"))
	waitFor("live results", `document.getElementById("search-status").textContent.includes("1 customer for")`)
	if got := eval(`document.getElementById("search-status").textContent`); !strings.Contains(got, "read as +15045550123") {
		t.Errorf("search status %q", got)
	}
	if got := eval(`location.search`); got != "?q=504.555.0123" {
		t.Errorf("the URL does not follow the search: %q", got)
	}
	shot("search.png")

	// From the search box, Tab goes to the Search button, then to the
	// first result; Enter opens it.
	do("tab to the result", chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Tab))
	if got := eval(`document.activeElement.textContent`); got != "Ada Lovelace" {
		t.Fatalf("after two Tabs the focus is on %q, want the first result", got)
	}
	do("open the customer", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.ID("phones-heading")))
	if got := eval(`location.pathname`); got != fmt.Sprintf("/console/customers/%d", ada.ID) {
		t.Fatalf("Enter on the result opened %s", got)
	}
	waitFor("customer page", textHas("(504) 555-0123"))
	shot("customer.png")
	if shots {
		do("narrow screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		if got := eval(`String(document.querySelector(".grid") && getComputedStyle(document.querySelector(".grid")).gridTemplateColumns.split(" ").length)`); got != "1" {
			t.Errorf("at 390px the form has %s columns, want 1", got)
		}
		shot("customer-mobile.png")
		do("wide screen", chromedp.EmulateViewport(1280, 900))
	}

	// Add a phone.
	do("add a phone",
		chromedp.SendKeys(chromedp.ID("number"), "+44 20 7946 0958"),
		chromedp.SetValue(chromedp.ID("type"), "work"),
		chromedp.SendKeys(chromedp.ID("label"), "London office"),
		chromedp.Click(chromedp.CSS(`#add button[type="submit"]`)),
	)
	waitFor("phone added", `document.querySelector(".flash") && document.querySelector(".flash").textContent.includes("Phone added")`)
	waitFor("new phone listed", textHas("+44 20 7946 0958"))

	// Make it the primary.
	do("make primary", chromedp.Click(chromedp.CSS(`button[aria-label="Make +44 20 7946 0958 the primary phone"]`)))
	waitFor("primary changed", `document.querySelector(".flash") && document.querySelector(".flash").textContent.includes("Primary phone changed")`)
	waitFor("star moved", `[...document.querySelectorAll("tr[id^=phone-]")].some(r => r.textContent.includes("+44 20 7946 0958") && r.querySelector(".star"))`)
	if got := eval(`String(document.querySelectorAll(".phones .star").length)`); got != "1" {
		t.Errorf("%s primary stars on the page, want 1", got)
	}

	// The history shows the change, made through the console by this key.
	do("open history", chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/console/customers/%d/history"]`, ada.ID))))
	// Wait for the history's own entry: the customer page's flash says
	// "Primary phone changed" too, until the history page replaces it.
	waitFor("history", `document.querySelector(".ev-phone\\.primary_changed .meta") !== null`)
	if got := eval(`[...document.querySelectorAll(".ev-phone\\.primary_changed .meta")].map(e => e.textContent).join("|")`); !strings.Contains(got, "via console") || !strings.Contains(got, "acme support") {
		t.Errorf("primary change recorded as %q, want via console by acme support", got)
	}
	shot("history.png")

	// The store agrees.
	got, err := e.svc.FindCustomer(e.a.ctx, phonebook.CustomerRef{ID: ada.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range got.Phones {
		if want := p.E164 == "+442079460958"; p.IsPrimary != want {
			t.Errorf("phone %s: primary %v, want %v", p.E164, p.IsPrimary, want)
		}
	}

	// Import a file: the progress comes from htmx polling.
	csvPath := filepath.Join(t.TempDir(), "crm-export.csv")
	var rows strings.Builder
	rows.WriteString("external_id,name,number,type,primary,consent_type\n")
	// Enough rows that the import usually outlasts a poll or two; more for
	// the screenshot of the bar part way.
	importRows := 300
	if shots {
		importRows = 1500
	}
	for i := range importRows {
		fmt.Fprintf(&rows, "CRM-%04d,Customer %04d,+1 303 %03d %04d,mobile,true,express\n", i, i, 200+i/10000, i%10000)
	}
	rows.WriteString("CRM-900,Broken,not a number,mobile,,\nCRM-901,Pigeon,+1 303 555 0999,carrier pigeon,,\n")
	if err := os.WriteFile(csvPath, []byte(rows.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	do("import", chromedp.Navigate(base+"/console/import"), chromedp.WaitVisible(chromedp.ID("file")),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{csvPath}),
		chromedp.Click(chromedp.CSS(`form.card button[type="submit"]`)),
	)
	started := time.Now()
	if shots {
		// The live bar, part way.
		waitFor("import under way", `(b => b && (b.value > 0 || document.getElementById("progress").textContent.includes("Done")))(document.getElementById("import-bar"))`)
		if eval(`String(document.getElementById("import-bar").value < document.getElementById("import-bar").max)`) == "true" {
			shot("import-progress.png")
		}
	}
	waitFor("import done", fmt.Sprintf(`document.getElementById("progress") && document.getElementById("progress").textContent.includes("Done: %d rows")`, importRows+2), time.Minute)
	polls := strings.Count(e.logs.String(), "route=/console/import/{id}/progress")
	t.Logf("import of %d rows: %v, %d progress polls", importRows+2, time.Since(started).Round(time.Millisecond), polls)
	// A page first shown while the import ran keeps its hx-get: it can only
	// have come to "Done" by polling.
	if eval(`String(document.getElementById("progress").hasAttribute("hx-get"))`) == "true" && polls == 0 {
		t.Error("the import page never polled its progress")
	}
	if got := eval(`document.getElementById("progress").textContent`); !strings.Contains(got, "2 rows were rejected") {
		t.Errorf("import summary: %q", got)
	}
	shot("import.png")

	// A webhook's delivery log (needs an admin key: sign in again), once
	// a worker has tried the deliveries.
	attemptDeliveries(t, e)
	do("sign out", chromedp.Click(chromedp.CSS(`.who button`)), chromedp.WaitVisible(chromedp.ID("key")))
	do("sign in as admin",
		chromedp.SendKeys(chromedp.ID("key"), e.a.admin+"\n"),
		chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.Navigate(fmt.Sprintf("%s/console/webhooks/%d", base, hooks[0].ID)),
		chromedp.WaitVisible(chromedp.ID("log-heading")),
	)
	waitFor("delivery log", textHas("delivered"))
	shot("webhooks.png", false)

	// The listener does see what the CSP blocks: an inline style, added
	// on purpose, is reported (and then not counted).
	mu.Lock()
	seen := problems
	problems = nil
	mu.Unlock()
	for _, p := range seen {
		t.Errorf("browser: %s", p)
	}
	do("inline style", chromedp.Evaluate[chromedp.Void](`document.head.insertAdjacentHTML("beforeend", "<style>body{color:red}</style>")`))
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(problems)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Error("an inline style was not reported as a CSP violation: the check above proves nothing")
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// seedBrowser makes a tenant worth looking at: a few customers, one with
// an opted-out number, a webhook with delivered and failed deliveries.
func seedBrowser(t testing.TB, e *env) *phonebook.Customer {
	t.Helper()
	ctx := e.a.ctx
	if _, _, err := e.svc.CreateWebhook(ctx, phonebook.WebhookInput{URL: "https://crm.example.com/hooks/phonebook", Description: "CRM sync"}); err != nil {
		t.Fatal(err)
	}
	ada := e.MustCustomer(t, e.a, "Ada Lovelace", "C-1001", "(504) 555-0123")
	ref := phonebook.CustomerRef{ID: ada.ID}
	for _, in := range []phonebook.PhoneInput{
		{Number: "202-555-0175", Type: "home", ConsentType: phonebook.ConsentStop, ConsentSource: "inbound_sms"},
		{Number: "+33 1 42 68 53 00", Type: "work", Label: "Paris", ConsentType: phonebook.ConsentWritten, ConsentSource: "paper form"},
	} {
		if _, err := e.svc.AddPhone(ctx, ref, in); err != nil {
			t.Fatal(err)
		}
	}
	e.MustCustomer(t, e.a, "Grace Hopper", "C-1002", "+1 703 555 0199")
	e.MustCustomer(t, e.a, "Alan Turing", "C-1003", "+44 161 496 0000")
	attemptDeliveries(t, e)
	return ada
}

// attemptDeliveries plays a webhook worker: it tries every due delivery
// once; one in five fails with 503 and waits for its next try.
func attemptDeliveries(t testing.TB, e *env) {
	t.Helper()
	// A claim takes one delivery per customer (they go in order): claim
	// again until nothing is due.
	for range 10 {
		claimed, err := e.svc.ClaimDeliveries(context.Background(), time.Minute, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(claimed) == 0 {
			return
		}
		attempt(t, e, claimed)
	}
}

func attempt(t testing.TB, e *env, claimed []*phonebook.ClaimedDelivery) {
	t.Helper()
	for i, c := range claimed {
		ok := i%5 != 4
		at := phonebook.DeliveryAttempt{N: c.Delivery.Attempts + 1, At: time.Now().UTC(), StatusCode: 200, DurationMS: int64(20 + i%40)}
		if !ok {
			at.StatusCode, at.Error = 503, "503 Service Unavailable"
		}
		if err := e.svc.RecordAttempt(context.Background(), c.Delivery, at, ok); err != nil {
			t.Fatal(err)
		}
	}
}
