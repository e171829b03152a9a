package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teamapi"
)

// signInOptions returns the values of the options of the sign-in form's
// sign-in method select in console/index.html.
func signInOptions(t *testing.T) []string {
	t.Helper()
	page, err := console.ReadFile("console/index.html")
	if err != nil {
		t.Fatal(err)
	}
	sel := regexp.MustCompile(`(?s)<select[^>]* name="sign_in"[^>]*>(.*?)</select>`).FindSubmatch(page)
	if sel == nil {
		t.Fatal(`console/index.html has no <select name="sign_in">`)
	}
	var values []string
	for _, m := range regexp.MustCompile(`<option value="([^"]*)"`).FindAllSubmatch(sel[1], -1) {
		values = append(values, html.UnescapeString(string(m[1])))
	}
	if n := bytes.Count(sel[1], []byte("<option")); n != len(values) || n == 0 {
		t.Fatalf("the sign-in select has %d options, %d of them with a value attribute: want every option to have one", n, len(values))
	}
	return values
}

// TestSignInOptions checks each sign-in method the page offers: it is a
// store.SignIn roster knows, and signing up with it through the API
// registers a user with that method.
func TestSignInOptions(t *testing.T) {
	options := signInOptions(t)
	offered := map[string]bool{}
	for _, v := range options {
		offered[v] = true
		if !store.SignIn(v).Valid() {
			t.Errorf("the page offers the sign-in method %q, which is not a valid store.SignIn", v)
		}
	}
	for _, s := range []store.SignIn{store.SignInEmail, store.SignInEmail2FA, store.SignInGoogle, store.SignInGitHub} {
		if !offered[string(s)] {
			t.Errorf("the page does not offer the sign-in method %q; it offers %q", s, options)
		}
	}

	base, _ := serve(t)
	for i, v := range options {
		id := fmt.Sprintf("user%d", i)
		body, err := json.Marshal(map[string]string{"id": id, "name": id, "email": id + "@example.com", "sign_in": v})
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.Post(base+"/api/demo/signin", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		var u teamapi.User
		if res.StatusCode != http.StatusCreated {
			t.Errorf("sign up with %q: status %d, want 201: %s", v, res.StatusCode, raw)
		} else if err := json.Unmarshal(raw, &u); err != nil {
			t.Errorf("sign up with %q: decode %s: %v", v, raw, err)
		} else if u.ID != id || u.SignIn != store.SignIn(v) {
			t.Errorf("sign up with %q: user %+v, want %s signing in with %q", v, u, id, v)
		}
	}
}

// chromium returns the path of Debian's chromium. Without it the test skips,
// unless CI=true, where it fails.
func chromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("/usr/bin/chromium")
	if err != nil {
		if path, err = exec.LookPath("chromium"); err == nil {
			return path
		}
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is not installed (apt-get install chromium): %v", err)
		}
		t.Skipf("chromium is not installed (apt-get install chromium); skipping the browser test: %v", err)
	}
	return path
}

// browser starts headless chromium with a fresh profile and returns a
// context for it; it stops when the test ends.
func browser(t *testing.T) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// tab is one user's browser context (its own cookies, like a separate
// browser profile) with one page open.
type tab struct {
	t    *testing.T
	ctx  context.Context
	name string
}

// newTab opens a browser context for name with a viewport of 1200 by 860
// pixels, the size of the screenshots.
func newTab(t *testing.T, browserCtx context.Context, name string) tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1200, 860)); err != nil { // opens the tab; later calls may time out without closing it
		t.Fatalf("open a browser context for %s: %v", name, err)
	}
	return tab{t: t, ctx: ctx, name: name}
}

// screenshotDir is the directory the browser tests save their screenshots
// in: $ROSTER_SCREENSHOTS (made if missing), or the test's temporary
// directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ROSTER_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// shot saves a PNG of the page as dir/name.png: of the viewport, as it is
// scrolled, or with full of the whole page.
func (b tab) shot(dir, name string, full bool) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	capture := chromedp.CaptureScreenshot()
	if full {
		capture = chromedp.FullScreenshot(100) // 100: a PNG
	}
	png, err := chromedp.Run(ctx, capture)
	if err != nil {
		b.t.Fatalf("%s: screenshot %s: %v", b.name, name, err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		b.t.Fatalf("%s: screenshot %s is not a PNG", b.name, name)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("%s: saved %s", b.name, path)
}

// scrollTo scrolls the page so that the element sel is at the top.
func (b tab) scrollTo(sel string) {
	b.t.Helper()
	b.do("scroll to "+sel, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`window.scrollTo(0, document.querySelector(%q).getBoundingClientRect().top + window.scrollY - 8)`, sel)))
}

// choose sets the select sel to value and tells the page, as a user's
// choice does.
func (b tab) choose(sel, value string) {
	b.t.Helper()
	b.do("choose "+value+" in "+sel, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event("change")); })()`, sel, value)))
	if got := b.value(fmt.Sprintf(`document.querySelector(%q).value`, sel)); got != value {
		b.t.Fatalf("%s: %s has no option %q", b.name, sel, value)
	}
}

// do runs the steps, failing the test with what the page says if one fails.
func (b tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %s: %v\n%s", b.name, what, err, b.page())
	}
}

// wait waits until the JavaScript expression is true: the page shows what
// the test expects.
func (b tab) wait(what, expr string) {
	b.t.Helper()
	b.do(what, chromedp.Action[chromedp.Void](func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		// A predicate that throws (an element not rendered yet) would end
		// the polling without an answer: it counts as false instead.
		guarded := "(() => { try { return Boolean(" + expr + "); } catch (e) { return false; } })()"
		_, err := chromedp.Poll[chromedp.Void](guarded, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second))(ctx, t)
		return chromedp.Void{}, err
	}))
}

// page is the visible text of the page, for failure messages.
func (b tab) page() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		return "(page text unavailable: " + err.Error() + ")"
	}
	return "page of " + b.name + ":\n" + s
}

// value returns a JavaScript expression's string value.
func (b tab) value(expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("%s: evaluate %s: %v", b.name, expr, err)
	}
	return s
}

// signIn opens base and signs in as id, id@example.com, with the sign-in
// method method, an option of the page's select.
func (b tab) signIn(base, id, name, method string) {
	b.t.Helper()
	b.signInAs(base, id, name, id+"@example.com", method)
}

// signInAs is signIn with the address email.
func (b tab) signInAs(base, id, name, email, method string) {
	b.t.Helper()
	b.do("open the console and sign in as "+id+" with "+method,
		chromedp.Navigate(base),
		chromedp.WaitVisible(chromedp.CSS("#signin")),
		chromedp.SetValue(chromedp.CSS(`#signin [name=id]`), id),
		chromedp.SetValue(chromedp.CSS(`#signin [name=name]`), name),
		chromedp.SetValue(chromedp.CSS(`#signin [name=email]`), email),
		chromedp.SetValue(chromedp.CSS(`#signin [name=sign_in]`), method),
	)
	if got := b.value(`document.querySelector("#signin [name=sign_in]").value`); got != method {
		b.t.Fatalf("%s: the sign-in select has no option %q (its value is %q)", b.name, method, got)
	}
	b.do("submit the sign-in form", chromedp.Click(chromedp.CSS(`#signin button`)))
	b.wait("signed in as "+id, `document.querySelector("#whoami").textContent.includes(`+strconv.Quote("("+id+")")+`)`)
}

// memberTR is a JavaScript expression for the members table row of user.
func memberTR(user string) string {
	return fmt.Sprintf(`document.querySelector('#members tr[data-user=%q]')`, user)
}

// TestConsole drives the console in two browser contexts, on the Runpod
// policy: an admin converts their account to a team, invites a dev by link
// and copies the link again from the pending invites; the dev opens the
// link, signs in with email + 2FA, joins and switches to the team; the
// admin sees the dev's sign-in method, the seats and what each role may do,
// previews the dev's role change and makes it, suspends and reinstates the
// dev (who is told meanwhile), and removes them once asked to confirm; the
// audit log lists each step in words. In a second team, the admin
// requires secure sign-in, creates an API key, copies it and revokes it
// (the demo's pods route takes the key until then), and creates a service
// account, listed among every key of the team; it claims an email domain,
// confirms it by the demo DNS check, and a new user of the domain signs in
// and joins as the domain's role; the domain is removed.
func TestConsole(t *testing.T) {
	bin := chromium(t)
	start := time.Now()
	base, _ := serve(t)
	ctx := browser(t)
	t.Logf("chromium %s started in %v", bin, time.Since(start).Round(time.Millisecond))
	admin, dev := newTab(t, ctx, "admin"), newTab(t, ctx, "dev")

	admin.signIn(base, "ada", "Ada", "google")
	admin.do("convert to a team",
		chromedp.WaitVisible(chromedp.CSS("#convert")),
		chromedp.SetValue(chromedp.CSS(`#convert [name=name]`), "Acme"),
		chromedp.Click(chromedp.CSS(`#convert button`)),
	)
	admin.wait("the team page shows Acme with ada as admin",
		`document.querySelector("#team-name").textContent === "Acme" && document.querySelector("#my-role").textContent === "admin" && `+memberTR("ada")+` !== null`)

	admin.do("invite a dev by link",
		chromedp.SetValue(chromedp.CSS(`#invite select[name=role]`), "dev"),
		chromedp.Click(chromedp.CSS(`#invite button`)),
	)
	admin.wait("the link is shown to copy", `document.querySelector("#invite-link").value.startsWith(`+strconv.Quote(base+"/invites/")+`)`)
	link := admin.value(`document.querySelector("#invite-link").value`)
	admin.wait("the pending invites list the link", `[...document.querySelectorAll("#invites tbody tr")].some(tr => tr.cells[0].textContent === "link" && tr.cells[2].textContent === "dev")`)
	admin.do("copy the link again from the pending invites",
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#invite-link").value = ""`),
		chromedp.Click(chromedp.CSS(`#invites tbody tr .copy-invite`)))
	admin.wait("the same link is shown and copied", `document.querySelector("#invite-link").value === `+strconv.Quote(link)+
		` && document.querySelector("#status").textContent === "Link copied"`)
	admin.do("copy the link", chromedp.Click(chromedp.CSS("#copy-link")))
	admin.wait("the page says it was copied", `document.querySelector("#status").textContent === "Link copied"`)

	dev.signIn(link, "dan", "Dan", "email+2fa")
	dev.wait("the invitation is shown", `document.querySelector("#join-text").textContent === "Ada invites you to join Acme as dev."`)
	dev.do("join", chromedp.Click(chromedp.CSS("#join")))
	dev.wait("joined", `document.querySelector("#status").textContent.startsWith("Joined Acme as dev") && location.pathname === "/"`)
	if got := dev.value(`document.querySelector("#account").selectedOptions[0].textContent`); got != "Personal" {
		t.Errorf("after joining, the selector shows %q; joining must not switch accounts", got)
	}
	teamID := admin.value(`document.querySelector("#account").value`)
	dev.wait("the selector lists the team", fmt.Sprintf(`[...document.querySelector("#account").options].some(o => o.value === %q && o.textContent === "Acme (team, dev)")`, teamID))
	dev.do("switch to the team", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`(() => { const s = document.querySelector("#account"); s.value = %q; s.dispatchEvent(new Event("change")); })()`, teamID)))
	dev.wait("the team page as a dev: no invite form, no sign-in column, no audit log",
		`document.querySelector("#team-name").textContent === "Acme" && document.querySelector("#my-role").textContent === "dev" && `+
			memberTR("dan")+` !== null && document.querySelector("#invite-panel").hidden && document.querySelector("#audit-panel").hidden && `+
			`document.querySelector("#members .signin-col").hidden`)

	admin.do("reload the team page", chromedp.Navigate(base))
	admin.wait("the admin sees dan with his sign-in method",
		memberTR("dan")+`?.querySelector(".role").textContent === "dev" && `+memberTR("dan")+`.querySelector(".signin").textContent === "email+2fa"`)
	admin.wait("the seats, and what each role may do, from the policy",
		`document.querySelector("#seats").textContent === "2 used · no limit" && `+
			`document.querySelector('#roles tr[data-role="dev"]').cells[1].textContent === "access the team account, connect to existing Pods, create, delete, start and stop Pods, create and delete Serverless endpoints, send requests to Serverless endpoints"`)
	admin.wait("every field has a label, every button is a button",
		`[...document.querySelectorAll("input, select")].every(e => e.labels.length > 0) && `+
			`[...document.querySelectorAll("button")].every(b => b.getAttribute("type") === "button" || b.getAttribute("type") === "submit")`)
	admin.choose(`#members tr[data-user="dan"] select.new-role`, "basic")
	admin.wait("the page says what dan would gain and lose as basic",
		memberTR("dan")+`.querySelector(".role-preview").textContent === "Gains: nothing. Loses: create, delete, start and stop Pods, create and delete Serverless endpoints."`)
	admin.do("change dan's role to basic", chromedp.Click(chromedp.CSS(`#members tr[data-user="dan"] .change-role`)))
	admin.wait("dan is basic", memberTR("dan")+`?.querySelector(".role").textContent === "basic" && document.querySelector("#status").textContent === "Changed dan's role to basic"`)
	dev.do("reload as dan", chromedp.Navigate(base))
	dev.wait("dan sees his new role", `document.querySelector("#my-role").textContent === "basic"`)

	admin.do("suspend dan", chromedp.Click(chromedp.CSS(`#members tr[data-user="dan"] .suspend`)))
	admin.wait("dan is marked suspended, with a button to reinstate him",
		memberTR("dan")+`?.querySelector(".status .badge.suspended") !== null && `+memberTR("dan")+`.querySelector(".reinstate") !== null && `+
			`document.querySelector("#status").textContent.startsWith("Suspended dan")`)
	dev.do("reload as dan", chromedp.Navigate(base))
	dev.wait("dan, suspended, is told so instead of the team page",
		`document.querySelector("#team-panel").hidden && !document.querySelector("#blocked-panel").hidden && document.querySelector("#blocked-text").textContent.includes("suspended")`)
	admin.do("reinstate dan", chromedp.Click(chromedp.CSS(`#members tr[data-user="dan"] .reinstate`)))
	admin.wait("dan is no longer suspended", memberTR("dan")+`?.querySelector(".status").textContent === "joined" && document.querySelector("#status").textContent.startsWith("Reinstated dan")`)
	dev.do("reload as dan", chromedp.Navigate(base))
	dev.wait("dan has the team page again", `!document.querySelector("#team-panel").hidden && document.querySelector("#my-role").textContent === "basic"`)

	admin.do("ask to remove dan", chromedp.Click(chromedp.CSS(`#members tr[data-user="dan"] .remove`)))
	admin.wait("the page asks first, with Cancel focused",
		`document.querySelector("#confirm").open && document.querySelector("#confirm-title").textContent === "Remove Dan?" && document.activeElement.id === "confirm-cancel"`)
	admin.do("cancel", chromedp.Click(chromedp.CSS("#confirm-cancel")))
	admin.wait("dan stays", `!document.querySelector("#confirm").open && `+memberTR("dan")+` !== null`)
	admin.do("ask to remove dan again", chromedp.Click(chromedp.CSS(`#members tr[data-user="dan"] .remove`)))
	admin.wait("the page asks again", `document.querySelector("#confirm").open`)
	admin.do("confirm", chromedp.Click(chromedp.CSS("#confirm-ok")))
	admin.wait("dan is gone", memberTR("dan")+` === null && document.querySelector("#status").textContent === "Removed dan"`)
	dev.do("reload as dan", chromedp.Navigate(base))
	dev.wait("dan is back in his personal account, without the team",
		`document.querySelector("#account").options.length === 1 && !document.querySelector("#personal-panel").hidden && document.querySelector("#team-panel").hidden`)

	admin.wait("the audit log lists each step, newest first", `(() => {
		const rows = [...document.querySelectorAll("#audit tbody tr")].map(tr => tr.dataset.action + " " + tr.cells[1].textContent + " " + tr.querySelector(".resource").textContent);
		const want = ["member.removed ada member dan", "member.reinstated ada member dan", "member.suspended ada member dan", "member.role_changed ada member dan", "member.joined dan member dan", "invite.link_copied ada invite", "invite.created ada invite", "account.converted ada account"];
		let i = 0;
		for (const r of rows) if (i < want.length && r.startsWith(want[i])) i++;
		return i === want.length;
	})()`)
	admin.do("filter the audit log by dan's role change",
		chromedp.SetValue(chromedp.CSS(`#audit-filter [name=action]`), "member.role_changed"),
		chromedp.SetValue(chromedp.CSS(`#audit-filter [name=resource_id]`), "dan"),
		chromedp.Click(chromedp.CSS(`#audit-filter button`)),
	)
	admin.wait("only the role change is listed, with the roles before and after",
		`(() => { const rows = document.querySelectorAll("#audit tbody tr");
			return rows.length === 1 && rows[0].dataset.action === "member.role_changed" && rows[0].querySelector(".details").textContent === "role: dev → basic"; })()`)
	if txt := admin.page(); !strings.Contains(txt, "Acme") {
		t.Errorf("the admin's page lost the team:\n%s", txt)
	}

	admin.do("create a second team",
		chromedp.SetValue(chromedp.CSS(`#create-team [name=name]`), "Beta"),
		chromedp.Click(chromedp.CSS(`#create-team button`)),
	)
	admin.wait("the new team is active, with ada as admin, and Acme is kept",
		`document.querySelector("#team-name").textContent === "Beta" && document.querySelector("#my-role").textContent === "admin" && `+
			`document.querySelector("#account").options.length === 2 && document.querySelector("#status").textContent === "Created the team Beta"`)
	admin.do("preview secure sign-in", chromedp.Click(chromedp.CSS("#preview-secure")))
	admin.wait("nobody would lose access", `document.querySelector("#secure-preview").textContent.startsWith("Nobody")`)
	admin.do("require secure sign-in",
		chromedp.Click(chromedp.CSS("#require-secure")),
		chromedp.Click(chromedp.CSS("#apply-secure")),
	)
	admin.wait("the team says it requires secure sign-in",
		`document.querySelector("#status").textContent === "The team now requires secure sign-in" && !document.querySelector("#secure-status").hidden && document.querySelector("#require-secure").checked`)

	beta := admin.value(`document.querySelector("#account").value`)
	admin.do("create an API key",
		chromedp.SetValue(chromedp.CSS(`#key-create [name=name]`), "CI"),
		chromedp.Click(chromedp.CSS(`#key-create button`)),
	)
	admin.wait("its token is shown once and the key is listed, with ada's role",
		`document.querySelector("#key-token").value.startsWith("rsk_") && !document.querySelector("#key-result").hidden && `+
			`document.querySelector("#status").textContent.startsWith("Key CI created") && `+
			`[...document.querySelectorAll("#keys tbody tr")].some(tr => tr.querySelector(".name").textContent === "CI" && `+
			`tr.querySelector(".role").textContent === "admin" && tr.querySelector(".owner").textContent === "ada" && tr.querySelector(".revoked").textContent === "")`)
	token := admin.value(`document.querySelector("#key-token").value`)
	admin.do("copy the key", chromedp.Click(chromedp.CSS("#copy-key")))
	admin.wait("the page says it was copied", `document.querySelector("#status").textContent === "Key copied"`)
	withKey(t, base, token, "/api/demo/teams/"+beta+"/pods", 200, nil)
	admin.do("revoke the key", chromedp.Click(chromedp.CSS(`#keys tbody tr .revoke-key`)))
	admin.wait("the key is listed as revoked by ada, with no button left",
		`document.querySelector("#status").textContent === "Revoked the key CI" && `+
			`document.querySelector("#keys tbody tr .revoked").textContent.endsWith("by ada") && document.querySelector("#keys .revoke-key") === null`)
	withKey(t, base, token, "/api/demo/teams/"+beta+"/pods", 401, nil)

	admin.do("create a service account with the dev role",
		chromedp.SetValue(chromedp.CSS(`#key-create [name=name]`), "deployer"),
		chromedp.SetValue(chromedp.CSS(`#key-create [name=role]`), "dev"),
		chromedp.Click(chromedp.CSS(`#key-create [name=service]`)),
		chromedp.Click(chromedp.CSS(`#key-create button`)),
	)
	admin.wait("the service account's token is shown; ada's own keys do not list it",
		`document.querySelector("#status").textContent.startsWith("Service account deployer created") && `+
			`document.querySelector("#key-token").value.startsWith("rsk_") && document.querySelectorAll("#keys tbody tr").length === 1`)
	admin.do("show every key of the team", chromedp.Click(chromedp.CSS("#keys-all")))
	admin.wait("the service account is listed as the team's, with the dev role",
		`[...document.querySelectorAll("#keys tbody tr")].some(tr => tr.querySelector(".name").textContent === "deployer" && `+
			`tr.querySelector(".owner").textContent === "service account" && tr.querySelector(".role").textContent === "dev" && tr.querySelector(".revoke-key") !== null)`)

	admin.do("claim the email domain beta.example, whose users join as devs",
		chromedp.SetValue(chromedp.CSS(`#domain-add [name=name]`), "beta.example"),
		chromedp.SetValue(chromedp.CSS(`#domain-add [name=mode]`), "auto_join"),
		chromedp.SetValue(chromedp.CSS(`#domain-add [name=role]`), "dev"),
		chromedp.Click(chromedp.CSS(`#domain-add button`)),
	)
	domainTR := `document.querySelector('#domains tr[data-domain="beta.example"]')`
	admin.wait("the claim is pending, with the TXT record to publish",
		domainTR+`?.querySelector(".status .badge.pending") !== null && `+
			domainTR+`.querySelector(".challenge").textContent.startsWith("roster-domain-verification=") && `+
			domainTR+`.querySelector(".mode").textContent === "joins the team" && `+domainTR+`.querySelector(".role").textContent === "dev" && `+
			`document.querySelector("#status").textContent.startsWith("Claimed beta.example")`)
	admin.do("confirm it by the demo DNS check", chromedp.Click(chromedp.CSS(`#domains tr[data-domain="beta.example"] .confirm-domain`)))
	admin.wait("the domain is verified, with no confirm button left",
		domainTR+`?.querySelector(".status .badge.ok") !== null && `+domainTR+`.querySelector(".confirm-domain") === null && `+
			`document.querySelector("#status").textContent.startsWith("beta.example is verified")`)
	dev.do("sign dan out", chromedp.Click(chromedp.CSS("#signout")))
	dev.signInAs(base, "bea", "Bea", "bea@beta.example", "google")
	dev.wait("bea, signing in at beta.example, is told she joined Beta as a dev, which the selector lists",
		`document.querySelector("#status").textContent.startsWith("Signed in. You joined Beta as dev") && `+
			fmt.Sprintf(`[...document.querySelector("#account").options].some(o => o.value === %q && o.textContent === "Beta (team, dev)")`, beta))
	admin.do("reload the team page", chromedp.Navigate(base))
	admin.wait("bea is a dev of Beta", memberTR("bea")+`?.querySelector(".role").textContent === "dev"`)
	admin.do("remove the domain", chromedp.Click(chromedp.CSS(`#domains tr[data-domain="beta.example"] .remove-domain`)))
	admin.wait("no domain is claimed", domainTR+` === null && !document.querySelector("#domains-none").hidden && `+
		`document.querySelector("#status").textContent === "Removed the domain beta.example"`)
	t.Logf("browser flow took %v", time.Since(start).Round(time.Millisecond))
}

// openMail waits for a mail of the kind ("invite", "transfer.confirm" or
// "transfer.accept") in the page's demo outbox, and opens the link of the
// newest, as from the user's mailbox; it returns the link.
func (b tab) openMail(kind string) string {
	b.t.Helper()
	sel := fmt.Sprintf(`#outbox li[data-kind=%q] a`, kind)
	b.wait("a mail of kind "+kind, fmt.Sprintf(`document.querySelector(%q) !== null`, sel))
	link := b.value(fmt.Sprintf(`document.querySelector(%q).href`, sel))
	b.do("open the "+kind+" mail's link", chromedp.Navigate(link))
	return link
}

// TestConsoleDigitalOcean drives the DigitalOcean flow in two browser
// contexts, on the DigitalOcean policy: the owner makes a team and invites
// sam by email, requiring a secure sign-in method; sam, signed in with a
// password, is refused, turns on 2FA and joins; the owner makes sam an
// owner (the top role goes only by transfer), confirms it through the link
// of their email, and sam accepts through his; the members table, the
// ownership changes and the audit log show each step. It saves screenshots
// of the main screens in screenshotDir.
func TestConsoleDigitalOcean(t *testing.T) {
	chromium(t)
	base, _ := servePolicy(t, rbac.DigitalOcean())
	ctx := browser(t)
	dir := screenshotDir(t)
	owner, sam := newTab(t, ctx, "owner"), newTab(t, ctx, "sam")

	owner.signIn(base, "olivia", "Olivia", "google")
	owner.do("make the personal account the team Ocean",
		chromedp.WaitVisible(chromedp.CSS("#convert")),
		chromedp.SetValue(chromedp.CSS(`#convert [name=name]`), "Ocean"),
		chromedp.Click(chromedp.CSS(`#convert button`)),
	)
	owner.wait("olivia owns Ocean", `document.querySelector("#team-name").textContent === "Ocean" && document.querySelector("#my-role").textContent === "owner" && `+
		`document.querySelector("#owner-line").textContent === "You own this account."`)
	owner.wait("the invite form offers every role but owner, member first, with what it may do",
		`(() => { const s = document.querySelector("#invite select[name=role]");
			return [...s.options].map(o => o.value).join() === "biller,billing_viewer,member,modifier,resource_viewer" && s.value === "member" &&
				document.querySelector("#invite-role-hint").textContent === "member may see shared resources, create shared resources, modify shared resources, delete shared resources, see team settings."; })()`)
	owner.do("pick a plan of three seats",
		chromedp.SetValue(chromedp.CSS(`#plan [name=seats]`), "3"),
		chromedp.Click(chromedp.CSS(`#plan button`)))
	owner.wait("the seats show the plan", `document.querySelector("#seats").textContent === "1 of 3 used · 2 free"`)
	owner.do("invite sam by email, requiring secure sign-in",
		chromedp.SetValue(chromedp.CSS(`#invite [name=emails]`), "sam@example.com"),
		chromedp.Click(chromedp.CSS(`#invite [name=require_secure]`)),
		chromedp.Click(chromedp.CSS(`#invite button[type=submit]`)),
	)
	owner.wait("sam's invitation is pending and holds a seat",
		`document.querySelector("#status").textContent === "Invited sam@example.com" && document.querySelector("#seats").textContent === "2 of 3 used · 1 free" && `+
			`[...document.querySelectorAll("#members tbody tr")].some(tr => tr.cells[1].textContent === "sam@example.com" && tr.querySelector(".badge.pending") !== null) && `+
			`[...document.querySelectorAll("#invites tbody tr")].some(tr => tr.cells[0].textContent === "email" && tr.cells[1].textContent === "sam@example.com" && tr.cells[2].textContent === "member")`)
	owner.shot(dir, "do-team-invited", true)

	sam.signIn(base, "sam", "Sam", "email")
	link := sam.openMail("invite")
	sam.wait("the invitation says it needs a secure sign-in method",
		`document.querySelector("#join-text").textContent === "Olivia invites you to join Ocean as member." && `+
			`!document.querySelector("#join-note").hidden && document.querySelector("#join-note").textContent.endsWith("You sign in with email.")`)
	sam.do("try to join with a password only", chromedp.Click(chromedp.CSS("#join")))
	sam.wait("refused: the invitation needs a secure sign-in method",
		`document.querySelector("#status").className === "error" && document.querySelector("#status").textContent.includes("secure sign-in") && document.querySelector("#account").options.length === 1`)
	sam.shot(dir, "do-invitation-needs-secure-sign-in", false)
	sam.do("sign out", chromedp.Click(chromedp.CSS("#signout")))
	sam.wait("signed out", `!document.querySelector("#signin-panel").hidden`)
	sam.signIn(link, "sam", "Sam", "email+2fa")
	sam.do("join with 2FA on", chromedp.Click(chromedp.CSS("#join")))
	sam.wait("joined", `document.querySelector("#status").textContent.startsWith("Joined Ocean as member") && document.querySelector("#account").options.length === 2`)
	sam.choose("#account", owner.value(`document.querySelector("#account").value`))
	sam.wait("sam's team page: a member, who manages nobody",
		`document.querySelector("#my-role").textContent === "member" && document.querySelector("#owner-line").textContent === "Account owner: Olivia" && `+
			`document.querySelector("#members .actions button") === null && document.querySelector("#invite-panel").hidden && document.querySelector("#transfers-panel").hidden && `+
			`!document.querySelector("#leave").hidden && document.querySelector("#delete-team").hidden`)

	owner.do("reload", chromedp.Navigate(base))
	owner.wait("sam is a member, without the owner role among the roles to pick for him",
		memberTR("sam")+`?.querySelector(".role").textContent === "member" && `+memberTR("sam")+`.querySelector(".signin").textContent === "email+2fa" && `+
			`![...`+memberTR("sam")+`.querySelectorAll("select.new-role option")].some(o => o.value === "owner")`)
	owner.do("open what each role may do", chromedp.Click(chromedp.CSS("#roles-panel summary")))
	owner.wait("the roles, from the policy", `document.querySelector('#roles tr[data-role="billing_viewer"]').cells[1].textContent === "see limited billing information" && `+
		`document.querySelector('#roles tr[data-role="owner"] .badge') !== null`)
	owner.choose(`#members tr[data-user="sam"] select.new-role`, "modifier")
	owner.wait("the preview of member to modifier", memberTR("sam")+`.querySelector(".role-preview").textContent === "Gains: nothing. Loses: delete shared resources."`)
	owner.scrollTo("body")
	owner.shot(dir, "do-members", false) // docs/console.png
	owner.choose(`#members tr[data-user="sam"] select.new-role`, "member")

	owner.do("ask to make sam an owner", chromedp.Click(chromedp.CSS(`#members tr[data-user="sam"] .make-top`)))
	owner.wait("the page asks first", `document.querySelector("#confirm").open && document.querySelector("#confirm-title").textContent === "Make Sam owner?"`)
	owner.shot(dir, "do-confirm-ownership", false)
	owner.do("start the ownership change", chromedp.Click(chromedp.CSS("#confirm-ok")))
	owner.wait("it waits for olivia's confirmation",
		`document.querySelector("#status").textContent === "Ownership change started: confirm it through the link emailed to you" && `+
			`document.querySelector("#transfers tbody tr .status").textContent === "waiting for olivia to confirm"`)
	owner.openMail("transfer.confirm")
	owner.wait("the link asks olivia to confirm", `document.querySelector("#transfer-text").textContent.startsWith("Confirm that sam becomes owner of Ocean.") && !document.querySelector("#transfer-confirm").hidden`)
	owner.shot(dir, "do-transfer-confirm", false)
	owner.do("confirm", chromedp.Click(chromedp.CSS("#transfer-confirm")))
	owner.wait("confirmed; now it waits for sam",
		`document.querySelector("#status").textContent === "Confirmed: sam can now accept through the link emailed to them." && location.pathname === "/" && `+
			`document.querySelector("#transfer-panel").hidden && document.querySelector("#transfers tbody tr .status").textContent === "waiting for sam to accept"`)

	sam.do("reload", chromedp.Navigate(base))
	sam.openMail("transfer.accept")
	sam.wait("the link asks sam to accept", `!document.querySelector("#transfer-accept").hidden && document.querySelector("#transfer-confirm").hidden`)
	sam.do("accept", chromedp.Click(chromedp.CSS("#transfer-accept")))
	sam.wait("sam is an owner of Ocean",
		`document.querySelector("#status").textContent === "Accepted: you are now owner of Ocean." && document.querySelector("#my-role").textContent === "owner" && `+
			`location.pathname === "/" && !document.querySelector("#invite-panel").hidden`)

	owner.do("reload", chromedp.Navigate(base))
	owner.wait("two owners; olivia still owns the account",
		memberTR("sam")+`?.querySelector(".role").textContent === "owner" && `+memberTR("olivia")+`.querySelector(".badge.owner")?.textContent === "account owner" && `+
			memberTR("sam")+`.querySelector(".badge.owner") === null && `+memberTR("sam")+`.querySelector("select.new-role").value === "owner" && document.querySelector("#transfers tbody tr .status").textContent === "done"`)
	owner.shot(dir, "do-team", false)
	owner.wait("the audit log tells each step in words, newest first", `(() => {
		const rows = [...document.querySelectorAll("#audit tbody tr")].map(tr => tr.dataset.action + " " + tr.cells[1].textContent + " " + tr.querySelector(".details").textContent);
		const want = ["transfer.accepted sam status: done", "member.role_changed olivia role: member → owner", "transfer.confirmed olivia status: awaiting accept",
			"transfer.started olivia from: oliviakind: roleto: sam", "member.joined sam", "invite.accept_failed sam reason: the user's sign-in method is not secure",
			"invite.created olivia email: sam@example.com", "account.seat_limit_changed the host seat limit: 0 → 3"];
		let i = 0;
		for (const r of rows) if (i < want.length && r.startsWith(want[i])) i++;
		return i === want.length;
	})()`)
	owner.scrollTo("#audit-panel")
	owner.shot(dir, "do-audit", false)
}
