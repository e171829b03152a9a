package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

func TestRecord(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		t.Run("a basic member records a host event with the request's metadata", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct := e.team(t, "alice", member{"carol", rbac.RunpodBasic})
			rctx := store.WithRequest(ctx, store.Request{IP: "2001:db8::7", UserAgent: "console", RequestID: "req-1"})
			before := time.Now().Add(-time.Second)
			got, err := e.r.Audit.Record(rctx, "carol", acct.ID, audit.Entry{
				Action: "pod.connected", ResourceType: "pod", ResourceID: "pod_7f3a",
				Before: `{ "state" : "idle" }`, After: "{\n  \"state\": \"connected\",\n  \"max_gpus\": 2\n}",
			})
			if err != nil {
				t.Fatal(err)
			}
			want := store.Event{
				ID: got.ID, AccountID: acct.ID, Time: got.Time, Actor: "carol", Action: "pod.connected",
				ResourceType: "pod", ResourceID: "pod_7f3a", Result: store.Allowed,
				Before: `{"state":"idle"}`, After: `{"state":"connected","max_gpus":2}`,
				IP: "2001:db8::7", UserAgent: "console", RequestID: "req-1", PrevHash: got.PrevHash, Hash: got.Hash,
				Salt: got.Salt, Commitment: got.Commitment,
			}
			checkEvents(t, "recorded event", []store.Event{want}, []store.Event{got})
			checkEvents(t, "stored event", []store.Event{want}, e.all(t, acct.ID)[:1])
			if got.Time.Before(before) || got.Time.Location() != time.UTC || len(got.Hash) == 0 || len(got.Salt) != 16 || len(got.Commitment) == 0 {
				t.Errorf("recorded at %v with hash %x, salt %x and commitment %x, want now in UTC, a hash, a 16-byte salt and a commitment",
					got.Time, got.Hash, got.Salt, got.Commitment)
			}
			if _, err := e.r.Audit.Verify(ctx, "alice", acct.ID); err != nil {
				t.Errorf("Verify after Record: %v", err)
			}
		})

		t.Run("host events are filterable like roster's", func(t *testing.T) {
			e := newEnv(t, b, rbac.DigitalOcean())
			acct := e.team(t, "olive", member{"max", rbac.DigitalOceanMember})
			e.record(t, "max", acct.ID, audit.Entry{Action: "droplet.created", ResourceType: "droplet", ResourceID: "d1"})
			e.record(t, "max", acct.ID, audit.Entry{Action: "droplet.deleted", ResourceType: "droplet", ResourceID: "d1",
				Result: store.Denied, Reason: "role member lacks resources.delete"})
			got := queryAll(t, e.r.Audit, "olive", acct.ID, audit.Filter{ResourceType: "droplet", ResourceID: "d1", Result: store.Denied})
			if len(got) != 1 || got[0].Action != "droplet.deleted" || got[0].Reason != "role member lacks resources.delete" {
				t.Errorf("denied droplet events = %+v", got)
			}
		})

		t.Run("actions in roster's namespaces are refused", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct := e.team(t, "alice")
			written := e.count(t)
			for _, a := range []store.EventAction{"member.added", "member.role_changed", "account.created", "invite.accepted",
				"transfer.done", "role.created", "audit.pruned", "roster.anything", "team.deleted", "user.created", "api_key.created"} {
				_, err := e.r.Audit.Record(ctx, "alice", acct.ID, audit.Entry{Action: a, ResourceType: "member", ResourceID: "alice"})
				if !errors.Is(err, audit.ErrReserved) || !errors.Is(err, store.ErrInvalid) {
					t.Errorf("Record(%q) = %v, want ErrReserved and ErrInvalid", a, err)
				}
				if !audit.Reserved(a) {
					t.Errorf("Reserved(%q) = false", a)
				}
			}
			for _, a := range []store.EventAction{"pod.created", "members_app.synced", "teamwork.started", "auditing.done"} {
				if audit.Reserved(a) {
					t.Errorf("Reserved(%q) = true", a)
				}
			}
			if n := e.count(t); n != written {
				t.Errorf("refused records wrote %d events", n-written)
			}
		})

		t.Run("bad input is refused and writes nothing", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct := e.team(t, "alice")
			ok := audit.Entry{Action: "pod.created", ResourceType: "pod", ResourceID: "p1"}
			with := func(edit func(*audit.Entry)) audit.Entry {
				en := ok
				edit(&en)
				return en
			}
			written := e.count(t)
			for name, en := range map[string]audit.Entry{
				"an empty action":                 with(func(en *audit.Entry) { en.Action = "" }),
				"an action without namespace":     with(func(en *audit.Entry) { en.Action = "created" }),
				"an uppercase action":             with(func(en *audit.Entry) { en.Action = "Pod.Created" }),
				"an action with a space":          with(func(en *audit.Entry) { en.Action = "pod. created" }),
				"an action with a wildcard":       with(func(en *audit.Entry) { en.Action = "pod.%" }),
				"an action with a newline":        with(func(en *audit.Entry) { en.Action = "pod.created\nmember.added" }),
				"an oversized action":             with(func(en *audit.Entry) { en.Action = store.EventAction("pod." + strings.Repeat("x", 200)) }),
				"a resource ID with a space":      with(func(en *audit.Entry) { en.ResourceID = "p 1" }),
				"an oversized resource ID":        with(func(en *audit.Entry) { en.ResourceID = strings.Repeat("x", 129) }),
				"a resource type not UTF-8":       with(func(en *audit.Entry) { en.ResourceType = "\xfe" }),
				"an unknown result":               with(func(en *audit.Entry) { en.Result = "maybe" }),
				"a reason with a newline":         with(func(en *audit.Entry) { en.Reason = "ok\n2025-01-01 admin granted" }),
				"a reason with a bidi override":   with(func(en *audit.Entry) { en.Reason = "ok\u202egnp.exe" }),
				"a reason with a NUL":             with(func(en *audit.Entry) { en.Reason = "a\x00b" }),
				"an oversized reason":             with(func(en *audit.Entry) { en.Reason = strings.Repeat("é", audit.MaxReasonLen+1) }),
				"a reason not UTF-8":              with(func(en *audit.Entry) { en.Reason = "\xff" }),
				"a before value that is not JSON": with(func(en *audit.Entry) { en.Before = "state=idle" }),
				"an after value that is an array": with(func(en *audit.Entry) { en.After = `["a"]` }),
				"an after value that is a string": with(func(en *audit.Entry) { en.After = `"a"` }),
				"two JSON values":                 with(func(en *audit.Entry) { en.After = `{} {}` }),
				"an oversized value":              with(func(en *audit.Entry) { en.After = `{"a":"` + strings.Repeat("x", audit.MaxValueLen) + `"}` }),
				"a value not UTF-8":               with(func(en *audit.Entry) { en.After = "{\"a\":\"\xff\"}" }),
			} {
				_, err := e.r.Audit.Record(ctx, "alice", acct.ID, en)
				checkErr(t, name, err, store.ErrInvalid)
			}
			for name, c := range map[string]struct{ actor, account string }{
				"an empty actor":       {"", acct.ID},
				"an actor with spaces": {"a b", acct.ID},
				"an empty account":     {"alice", ""},
			} {
				_, err := e.r.Audit.Record(ctx, c.actor, c.account, ok)
				checkErr(t, name, err, store.ErrInvalid)
			}
			if n := e.count(t); n != written {
				t.Errorf("refused records wrote %d events", n-written)
			}
		})

		t.Run("actions at the edges of their form are recorded", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct := e.team(t, "alice")
			longest := "pod." + strings.Repeat("x", store.MaxIDLen-len("pod."))
			for _, a := range []string{"a.z", "z.a", "az09_.z_90a", "pod.a0", "pod.z9", longest} {
				if _, err := e.r.Audit.Record(ctx, "alice", acct.ID, audit.Entry{Action: store.EventAction(a), ResourceType: "pod", ResourceID: "p1"}); err != nil {
					t.Errorf("action %q: %v, want it recorded", a, err)
				}
			}
		})

		t.Run("a reason and values of the largest size are recorded", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct := e.team(t, "alice")
			value := `{"a":"` + strings.Repeat("x", audit.MaxValueLen-len(`{"a":""}`)) + `"}`
			en := audit.Entry{Action: "pod.created", ResourceType: "pod", ResourceID: "p1",
				Reason: strings.Repeat("é", audit.MaxReasonLen), Before: value, After: value}
			if _, err := e.r.Audit.Record(ctx, "alice", acct.ID, en); err != nil {
				t.Errorf("a reason of %d characters and values of %d bytes: %v, want them recorded", audit.MaxReasonLen, len(value), err)
			}
		})

		t.Run("only members record, in accounts that exist", func(t *testing.T) {
			e := newEnv(t, b, rbac.Runpod())
			acct := e.team(t, "alice")
			rostertest.User(t, e.r, "mallory")
			written := e.count(t)
			_, err := e.r.Audit.Record(ctx, "mallory", acct.ID, audit.Entry{Action: "pod.created"})
			checkErr(t, "a non-member recording", err, rbac.ErrNotMember)
			_, err = e.r.Audit.Record(ctx, "alice", "acc_missing", audit.Entry{Action: "pod.created"})
			checkErr(t, "recording in an unknown account", err, store.ErrNotFound)
			if n := e.count(t); n != written {
				t.Errorf("refused records wrote %d events", n-written)
			}
		})
	})
}

func TestMiddleware(t *testing.T) {
	t.Run("the handler's context carries the request's metadata", func(t *testing.T) {
		var got store.Request
		h := audit.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = store.RequestFrom(r.Context())
		}))
		req := httptest.NewRequest(http.MethodPost, "/pods", nil)
		req.RemoteAddr = "198.51.100.4:51234"
		req.Header.Set("User-Agent", "console/2\r\nX-Evil: 1")
		req.Header.Set("X-Request-ID", "req-77")
		req.Header.Set("X-Forwarded-For", "10.0.0.1")
		h.ServeHTTP(httptest.NewRecorder(), req)
		want := store.Request{IP: "198.51.100.4", UserAgent: "console/2\uFFFD\uFFFDX-Evil: 1", RequestID: "req-77"}
		if got != want {
			t.Errorf("metadata = %+v, want %+v", got, want)
		}
	})
}

func TestDeniedAuditAttemptsAreRecorded(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, b, rbac.Runpod())
		acct := e.team(t, "alice", member{"bob", rbac.RunpodDev})
		calls := map[store.EventAction]func() error{
			store.EventAuditQueried: func() error { _, _, err := e.r.Audit.Query(ctx, "bob", acct.ID, audit.Filter{}); return err },
			"head":                  func() error { _, err := e.r.Audit.Head(ctx, "bob", acct.ID); return err },
			"verify":                func() error { _, err := e.r.Audit.Verify(ctx, "bob", acct.ID); return err },
			"members at":            func() error { _, err := e.r.Audit.MembersAt(ctx, "bob", acct.ID, time.Now()); return err },
			"member at": func() error {
				_, _, err := e.r.Audit.MemberAt(ctx, "bob", acct.ID, "alice", time.Now())
				return err
			},
			store.EventAuditExported: func() error {
				_, err := e.r.Audit.Export(ctx, "bob", acct.ID, audit.Filter{}, audit.CSV, &strings.Builder{})
				return err
			},
			store.EventAuditPruned: func() error { _, err := e.r.Audit.Prune(ctx, "bob", acct.ID, time.Now()); return err },
		}
		want := map[store.EventAction]int{store.EventAuditQueried: 5, store.EventAuditExported: 1, store.EventAuditPruned: 1}
		for name, call := range calls {
			checkErr(t, string(name), call(), rbac.ErrDenied)
		}
		denied := e.events(t, store.EventFilter{AccountID: acct.ID, Result: store.Denied})
		got := map[store.EventAction]int{}
		for _, ev := range denied {
			if ev.Actor != "bob" || ev.ResourceType != "audit" || ev.ResourceID != acct.ID || ev.Reason == "" {
				t.Errorf("denied event %+v, want bob's on the account's audit log with a reason", ev)
			}
			got[ev.Action]++
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("denied events by action = %v, want %v", got, want)
		}
		if _, err := e.r.Audit.Verify(ctx, "alice", acct.ID); err != nil {
			t.Errorf("Verify with denied events: %v", err)
		}
	})
}

func TestRecordRedactsSecrets(t *testing.T) {
	ctx := context.Background()
	// Keys that name a secret, each with a value that must not be stored.
	secretKeys := []string{
		"password", "Password", "PASSWORD", "passwd", "pwd", "user_pwd", "passphrase", "Pass Phrase",
		"token", "github_token", "accessToken", "refresh-token", "id.token", "invite_token", "max_tokens",
		"secret", "client_secret", "Client Secret", "aws_secret_access_key", "secretKey",
		"api_key", "apiKey", "API-Key", "x-api-key", "X-API-KEY", "access_key", "AccessKey", "private_key", "privateKey",
		"credential", "credentials", "Authorization", "proxy-authorization", "bearer", "Bearer Token", "jwt", "id_jwt",
		"cookie", "Set-Cookie", "session_id", "sessionId", "JSESSIONID", "signature", "X-Hub-Signature-256",
		"ＴＯＫＥＮ", "ｐａｓｓｗｏｒｄ", "Ａｐｉ＿Ｋｅｙ", "api－key", "pass\u3000word", "\u0074oken", "to\u200bken",
	}
	// Keys that do not, and whose values are stored as given.
	plainKeys := []string{"key", "monkey", "keyboard", "public_key", "key_id", "state", "owner", "role", "author",
		"description", "pass", "session", "ｋｅｙ", "ＳＴＡＴＥ"}

	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		e := newEnv(t, b, rbac.Runpod())
		acct := e.team(t, "alice", member{"bob", rbac.RunpodDev})
		record := func(t *testing.T, en audit.Entry) store.Event {
			t.Helper()
			en.Action, en.ResourceType, en.ResourceID = "pod.configured", "pod", "p1"
			got := e.record(t, "bob", acct.ID, en)
			stored := e.all(t, acct.ID)[0]
			if stored.ID != got.ID || stored.Before != got.Before || stored.After != got.After {
				t.Fatalf("stored %d %s %s, Record returned %d %s %s", stored.ID, stored.Before, stored.After, got.ID, got.Before, got.After)
			}
			return stored
		}

		t.Run("the value of a key that names a secret is stored as [REDACTED]", func(t *testing.T) {
			for i, k := range secretKeys {
				value := fmt.Sprintf("s3cr3t-%d", i)
				key, err := json.Marshal(k)
				if err != nil {
					t.Fatal(err)
				}
				got := record(t, audit.Entry{After: fmt.Sprintf(`{"gpu":"A100",%s:%q}`, key, value)})
				if want := fmt.Sprintf(`{"gpu":"A100",%s:"[REDACTED]"}`, key); got.After != want {
					t.Errorf("key %q: stored %s, want %s", k, got.After, want)
				}
				if strings.Contains(got.After, value) {
					t.Errorf("key %q: the secret is stored: %s", k, got.After)
				}
			}
		})

		t.Run("the value of a key that names no secret is stored as given", func(t *testing.T) {
			for _, k := range plainKeys {
				key, err := json.Marshal(k)
				if err != nil {
					t.Fatal(err)
				}
				in := fmt.Sprintf(`{%s:"v1","n":[1,{"a":true}]}`, key)
				if got := record(t, audit.Entry{Before: in}); got.Before != in {
					t.Errorf("key %q: stored %s, want %s", k, got.Before, in)
				}
			}
		})

		t.Run("secrets are redacted at any depth, whatever their value, in the order given", func(t *testing.T) {
			for _, c := range []struct{ in, want string }{
				{`{"config":{"env":[{"API-Key":"sk-1"},{"name":"PATH","value":"/bin"}]}}`,
					`{"config":{"env":[{"API-Key":"[REDACTED]"},{"name":"PATH","value":"/bin"}]}}`},
				{`{ "z" : 1, "credentials" : { "user" : "u", "password" : "p" }, "a" : { "b" : 2 } }`,
					`{"z":1,"credentials":"[REDACTED]","a":{"b":2}}`},
				{`{"tokens":["t1","t2"],"pwd":12345,"jwt":null,"cookie":false,"secret":{}}`,
					`{"tokens":"[REDACTED]","pwd":"[REDACTED]","jwt":"[REDACTED]","cookie":"[REDACTED]","secret":"[REDACTED]"}`},
				{`{"a":[[{"bearer":"x"}],[],[[{"deep":{"ＴＯＫＥＮ":"y","ok":-1.5e3}}]]],"b":{}}`,
					`{"a":[[{"bearer":"[REDACTED]"}],[],[[{"deep":{"ＴＯＫＥＮ":"[REDACTED]","ok":-1.5e3}}]]],"b":{}}`},
				{`{"note":"a \"token\": }{,] \\","token":"x\",}]","after":"\u00e9"}`,
					`{"note":"a \"token\": }{,] \\","token":"[REDACTED]","after":"\u00e9"}`},
				{`{"password":"1","password":"2"}`, `{"password":"[REDACTED]","password":"[REDACTED]"}`},
			} {
				if got := record(t, audit.Entry{Before: c.in, After: c.in}); got.Before != c.want || got.After != c.want {
					t.Errorf("%s: stored before %s and after %s, want %s", c.in, got.Before, got.After, c.want)
				}
			}
		})

		t.Run("a redacted event verifies", func(t *testing.T) {
			record(t, audit.Entry{After: `{"password":"hunter2","list":[{"api_key":"sk-1"}]}`})
			if _, err := e.r.Audit.Verify(ctx, "alice", acct.ID); err != nil {
				t.Errorf("Verify after redacted records: %v", err)
			}
			for _, ev := range e.all(t, acct.ID) {
				for _, secret := range []string{"hunter2", "sk-1", "s3cr3t-"} {
					if strings.Contains(ev.Before+ev.After, secret) {
						t.Errorf("event %d holds %q: %s %s", ev.ID, secret, ev.Before, ev.After)
					}
				}
			}
		})
	})
}
