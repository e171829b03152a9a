package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/teamroster/roster/examples/internal/exampletest"
)

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

func newTab(t *testing.T, browserCtx context.Context, name string) tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab; later calls may time out without closing it
		t.Fatalf("open a browser context for %s: %v", name, err)
	}
	return tab{t: t, ctx: ctx, name: name}
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
		_, err := chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second))(ctx, t)
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

func (b tab) signIn(base, id, name string) {
	b.t.Helper()
	b.do("open the console and sign in as "+id,
		chromedp.Navigate(base),
		chromedp.WaitVisible(chromedp.CSS("#signin")),
		chromedp.SetValue(chromedp.CSS(`#signin [name=id]`), id),
		chromedp.SetValue(chromedp.CSS(`#signin [name=name]`), name),
		chromedp.SetValue(chromedp.CSS(`#signin [name=email]`), id+"@example.com"),
		chromedp.SetValue(chromedp.CSS(`#signin [name=sign_in]`), "google"),
		chromedp.Click(chromedp.CSS(`#signin button`)),
	)
	b.wait("signed in as "+id, `document.querySelector("#whoami").textContent.includes(`+strconv.Quote("("+id+")")+`)`)
}

// member is a JavaScript expression for the members table row of user.
func member(user string) string {
	return fmt.Sprintf(`document.querySelector('#members tr[data-user=%q]')`, user)
}

// TestConsole drives the console in two browser contexts: an admin converts
// their account to a team and invites a dev by link; the dev opens the link,
// joins and switches to the team; the admin changes the dev's role, then
// removes them; the audit log lists each step.
func TestConsole(t *testing.T) {
	bin := chromium(t)
	start := time.Now()
	base, _ := exampletest.Serve(t, run)
	ctx := browser(t)
	t.Logf("chromium %s started in %v", bin, time.Since(start).Round(time.Millisecond))
	admin, dev := newTab(t, ctx, "admin"), newTab(t, ctx, "dev")

	admin.signIn(base, "ada", "Ada")
	admin.do("convert to a team",
		chromedp.WaitVisible(chromedp.CSS("#convert")),
		chromedp.SetValue(chromedp.CSS(`#convert [name=name]`), "Acme"),
		chromedp.Click(chromedp.CSS(`#convert button`)),
	)
	admin.wait("the team page shows Acme with ada as admin",
		`document.querySelector("#team-name").textContent === "Acme" && document.querySelector("#my-role").textContent === "admin" && `+member("ada")+` !== null`)

	admin.do("invite a dev by link",
		chromedp.SetValue(chromedp.CSS(`#invite select[name=role]`), "dev"),
		chromedp.Click(chromedp.CSS(`#invite button`)),
	)
	admin.wait("the link is shown to copy", `document.querySelector("#invite-link").value.startsWith(`+strconv.Quote(base+"/invites/")+`)`)
	link := admin.value(`document.querySelector("#invite-link").value`)
	admin.wait("the pending invites list the link", `[...document.querySelectorAll("#invites tbody tr")].some(tr => tr.cells[0].textContent === "link" && tr.cells[2].textContent === "dev")`)
	admin.do("copy the link", chromedp.Click(chromedp.CSS("#copy-link")))
	admin.wait("the page says it was copied", `document.querySelector("#status").textContent === "Link copied"`)

	dev.signIn(link, "dan", "Dan")
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
			member("dan")+` !== null && document.querySelector("#invite-panel").hidden && document.querySelector("#audit-panel").hidden && `+
			`document.querySelector("#members .signin-col").hidden`)

	admin.do("reload the team page", chromedp.Navigate(base))
	admin.wait("the admin sees dan with his sign-in method",
		member("dan")+`?.querySelector(".role").textContent === "dev" && `+member("dan")+`.querySelector(".signin").textContent === "google"`)
	admin.do("change dan's role to basic",
		chromedp.SetValue(chromedp.CSS(`#members tr[data-user="dan"] select.new-role`), "basic"),
		chromedp.Click(chromedp.CSS(`#members tr[data-user="dan"] .change-role`)),
	)
	admin.wait("dan is basic", member("dan")+`?.querySelector(".role").textContent === "basic" && document.querySelector("#status").textContent === "Changed dan's role to basic"`)
	dev.do("reload as dan", chromedp.Navigate(base))
	dev.wait("dan sees his new role", `document.querySelector("#my-role").textContent === "basic"`)

	admin.do("remove dan", chromedp.Click(chromedp.CSS(`#members tr[data-user="dan"] .remove`)))
	admin.wait("dan is gone", member("dan")+` === null && document.querySelector("#status").textContent === "Removed dan"`)
	dev.do("reload as dan", chromedp.Navigate(base))
	dev.wait("dan is back in his personal account, without the team",
		`document.querySelector("#account").options.length === 1 && !document.querySelector("#personal-panel").hidden && document.querySelector("#team-panel").hidden`)

	admin.wait("the audit log lists each step, newest first", `(() => {
		const rows = [...document.querySelectorAll("#audit tbody tr")].map(tr => tr.dataset.action + " " + tr.cells[1].textContent + " " + tr.querySelector(".resource").textContent);
		const want = ["member.removed ada member dan", "member.role_changed ada member dan", "member.joined dan member dan", "invite.created ada invite", "account.converted ada account"];
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
			return rows.length === 1 && rows[0].dataset.action === "member.role_changed" && rows[0].textContent.includes('"dev"') && rows[0].textContent.includes('"basic"'); })()`)
	if txt := admin.page(); !strings.Contains(txt, "Acme") {
		t.Errorf("the admin's page lost the team:\n%s", txt)
	}
	t.Logf("browser flow took %v", time.Since(start).Round(time.Millisecond))
}
