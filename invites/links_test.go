package invites_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/teamroster/roster/internal/rostertest"
	"github.com/teamroster/roster/internal/testdb"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// secret returns a link secret with the key ID id and a key of 32 bytes
// made from fill.
func secret(t *testing.T, id string, fill byte) invites.Secret {
	t.Helper()
	s, err := invites.NewSecret(id, bytes.Repeat([]byte{fill}, invites.MinSecretLen))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// copyLink has actor copy the invite's link again and fails the test on
// error.
func copyLink(t *testing.T, e *inviteEnv, actor, accountID, inviteID string) invites.Invitation {
	t.Helper()
	inv, err := e.r.Invites.Link(context.Background(), actor, accountID, inviteID)
	if err != nil {
		t.Fatalf("%s copies the link of %s: %v", actor, inviteID, err)
	}
	return inv
}

// storedInvite reads the invite as stored.
func storedInvite(t *testing.T, s store.Store, id string) store.Invite {
	t.Helper()
	var inv store.Invite
	err := s.View(context.Background(), func(tx store.Tx) (err error) {
		inv, err = tx.Invite(context.Background(), id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestLink(t *testing.T) {
	ctx := context.Background()
	rostertest.ForEachBackend(t, func(t *testing.T, b testdb.Backend) {
		k1, k2 := secret(t, "k1", 1), secret(t, "k2", 2)

		t.Run("a copy is the same link, it works, and the copy is recorded", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod(), invites.WithLinkSecrets(k1))
			acct := rostertest.Team(t, e.r, "alice", nil)
			rostertest.User(t, e.r, "bob")
			inv := link(t, e.r, "alice", acct.ID, rbac.RunpodDev)
			if !strings.HasPrefix(inv.Token, "rsti_k1_") {
				t.Errorf("token %q does not start with rsti_k1_", inv.Token)
			}
			before := storedInvite(t, e.s, inv.ID)
			again := copyLink(t, e, "alice", acct.ID, inv.ID)
			if again.Token != inv.Token || again.Link != inv.Link || again.ID != inv.ID || again.Status != store.InvitePending {
				t.Fatalf("copy = %+v, want the pending invite with link %s", again, inv.Link)
			}
			if after := storedInvite(t, e.s, inv.ID); !after.UpdatedAt.Equal(before.UpdatedAt) || !bytes.Equal(after.TokenHash, before.TokenHash) || after.ResentBy != "" {
				t.Errorf("copying changed the invite: %+v, was %+v", after, before)
			}
			var ev store.Event
			for _, x := range rostertest.Events(t, e.s, acct.ID) {
				if x.Action == store.EventInviteLinkCopied {
					ev = x
				}
			}
			if ev.Actor != "alice" || ev.ResourceID != inv.ID || ev.Result != store.Allowed || ev.After != `{"key_id":"k1"}` {
				t.Errorf("newest event = %+v, want alice's one invite.link_copied of %s naming key k1", ev, inv.ID)
			}
			if n := countEvents(t, e.s, acct.ID, string(store.EventInviteLinkCopied), store.Allowed); n != 1 {
				t.Errorf("%d invite.link_copied events, want 1", n)
			}
			accept(t, e.r, "bob", again.Token)
			assertRole(t, e.s, acct.ID, "bob", rbac.RunpodDev)
		})

		t.Run("after rotation the old link works, its copy is the same, and new links use the current secret", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod(), invites.WithLinkSecrets(k1))
			acct := rostertest.Team(t, e.r, "alice", nil)
			rostertest.User(t, e.r, "bob")
			rostertest.User(t, e.r, "carol")
			old := link(t, e.r, "alice", acct.ID, rbac.RunpodDev)

			rotated := newInviteEnvOn(t, e.s, rbac.Runpod(), invites.WithLinkSecrets(k2, k1))
			if again := copyLink(t, rotated, "alice", acct.ID, old.ID); again.Link != old.Link {
				t.Errorf("copy after rotation = %s, want the link made under k1, %s, which still works", again.Link, old.Link)
			}
			fresh := link(t, rotated.r, "alice", acct.ID, rbac.RunpodBasic)
			if !strings.HasPrefix(fresh.Token, "rsti_k2_") {
				t.Errorf("a link made after rotation is %q, want it under k2", fresh.Token)
			}
			accept(t, rotated.r, "bob", old.Token)
			accept(t, rotated.r, "carol", copyLink(t, rotated, "alice", acct.ID, fresh.ID).Token)
			assertRole(t, e.s, acct.ID, "bob", rbac.RunpodDev)
			assertRole(t, e.s, acct.ID, "carol", rbac.RunpodBasic)
		})

		t.Run("after two rotations the links of both old secrets work", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod(), invites.WithLinkSecrets(k1))
			acct := rostertest.Team(t, e.r, "alice", nil)
			rostertest.User(t, e.r, "bob")
			rostertest.User(t, e.r, "carol")
			first := link(t, e.r, "alice", acct.ID, rbac.RunpodDev)
			second := link(t, newInviteEnvOn(t, e.s, rbac.Runpod(), invites.WithLinkSecrets(k2, k1)).r, "alice", acct.ID, rbac.RunpodBasic)

			k3 := secret(t, "k3", 3)
			twice := newInviteEnvOn(t, e.s, rbac.Runpod(), invites.WithLinkSecrets(k3, k2, k1))
			if again := copyLink(t, twice, "alice", acct.ID, first.ID); again.Link != first.Link {
				t.Errorf("copy after two rotations = %s, want the link made under k1, %s", again.Link, first.Link)
			}
			accept(t, twice.r, "bob", first.Token)
			accept(t, twice.r, "carol", second.Token)
			assertRole(t, e.s, acct.ID, "bob", rbac.RunpodDev)
			assertRole(t, e.s, acct.ID, "carol", rbac.RunpodBasic)
		})

		t.Run("a secret rotated out kills its links; a resend revives the invite under the current one", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod(), invites.WithLinkSecrets(k1))
			acct := rostertest.Team(t, e.r, "alice", nil)
			rostertest.User(t, e.r, "bob")
			old := link(t, e.r, "alice", acct.ID, rbac.RunpodDev)

			retired := newInviteEnvOn(t, e.s, rbac.Runpod(), invites.WithLinkSecrets(k2))
			if _, err := retired.r.Invites.Accept(ctx, "bob", old.Token); !errors.Is(err, invites.ErrUnknownToken) {
				t.Errorf("Accept of a link made under a retired secret: %v, want ErrUnknownToken", err)
			}
			if _, err := retired.r.Invites.Preview(ctx, old.Token); !errors.Is(err, invites.ErrUnknownToken) {
				t.Errorf("Preview of a link made under a retired secret: %v, want ErrUnknownToken", err)
			}
			if _, err := retired.r.Invites.Link(ctx, "alice", acct.ID, old.ID); !errors.Is(err, invites.ErrLinkNotKept) {
				t.Errorf("copying a link made under a retired secret: %v, want ErrLinkNotKept", err)
			}
			resent, err := retired.r.Invites.Resend(ctx, "alice", acct.ID, old.ID)
			if err != nil {
				t.Fatal(err)
			}
			if again := copyLink(t, retired, "alice", acct.ID, old.ID); again.Token != resent.Token || !strings.HasPrefix(again.Token, "rsti_k2_") {
				t.Errorf("copy after the resend = %q, want the resent token %q under k2", again.Token, resent.Token)
			}
			accept(t, retired.r, "bob", resent.Token)
			assertRole(t, e.s, acct.ID, "bob", rbac.RunpodDev)
		})

		t.Run("a key ID reused for another key kills the links of the first", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod(), invites.WithLinkSecrets(k1))
			acct := rostertest.Team(t, e.r, "alice", nil)
			rostertest.User(t, e.r, "bob")
			inv := link(t, e.r, "alice", acct.ID, rbac.RunpodDev)
			other := newInviteEnvOn(t, e.s, rbac.Runpod(), invites.WithLinkSecrets(secret(t, "k1", 9)))
			if _, err := other.r.Invites.Accept(ctx, "bob", inv.Token); !errors.Is(err, invites.ErrUnknownToken) {
				t.Errorf("Accept under another key with the same ID: %v, want ErrUnknownToken", err)
			}
			if _, err := other.r.Invites.Link(ctx, "alice", acct.ID, inv.ID); !errors.Is(err, invites.ErrLinkNotKept) {
				t.Errorf("Link under another key with the same ID: %v, want ErrLinkNotKept", err)
			}
			assertRole(t, e.s, acct.ID, "bob", "")
		})

		t.Run("a resend kills the previous copy and the copy follows the resend", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod(), invites.WithLinkSecrets(k1))
			acct := rostertest.Team(t, e.r, "alice", nil)
			rostertest.User(t, e.r, "bob")
			inv := emailInvite(t, e.r, "alice", acct.ID, rbac.RunpodDev, "bob@example.com")
			copied := copyLink(t, e, "alice", acct.ID, inv.ID)
			resent, err := e.r.Invites.Resend(ctx, "alice", acct.ID, inv.ID)
			if err != nil {
				t.Fatal(err)
			}
			if resent.Token == copied.Token {
				t.Fatal("the resend kept the token")
			}
			if _, err := e.r.Invites.Accept(ctx, "bob", copied.Token); !errors.Is(err, invites.ErrSuperseded) {
				t.Errorf("Accept of the copy made before the resend: %v, want ErrSuperseded", err)
			}
			if again := copyLink(t, e, "alice", acct.ID, inv.ID); again.Token != resent.Token {
				t.Errorf("copy after the resend = %q, want the resent token %q", again.Token, resent.Token)
			}
			accept(t, e.r, "bob", resent.Token)
		})

		t.Run("random tokens made without a secret keep working and cannot be copied", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod())
			acct := rostertest.Team(t, e.r, "alice", nil)
			rostertest.User(t, e.r, "bob")
			inv := link(t, e.r, "alice", acct.ID, rbac.RunpodDev)
			if _, err := e.r.Invites.Link(ctx, "alice", acct.ID, inv.ID); !errors.Is(err, invites.ErrNoLinkSecret) || !errors.Is(err, store.ErrPrecondition) {
				t.Errorf("Link without a secret: %v, want ErrNoLinkSecret, a precondition", err)
			}
			keyed := newInviteEnvOn(t, e.s, rbac.Runpod(), invites.WithLinkSecrets(k1))
			if _, err := keyed.r.Invites.Link(ctx, "alice", acct.ID, inv.ID); !errors.Is(err, invites.ErrLinkNotKept) || !errors.Is(err, store.ErrPrecondition) {
				t.Errorf("Link of a random token: %v, want ErrLinkNotKept, a precondition", err)
			}
			accept(t, keyed.r, "bob", inv.Token)
			assertRole(t, e.s, acct.ID, "bob", rbac.RunpodDev)
		})

		t.Run("refusals change nothing", func(t *testing.T) {
			e := newInviteEnv(t, b, rbac.Runpod(), invites.WithLinkSecrets(k1))
			acct := rostertest.Team(t, e.r, "alice", map[string]rbac.Role{"dev": rbac.RunpodDev})
			other := rostertest.Team(t, e.r, "olga", nil)
			rostertest.User(t, e.r, "bob")
			rostertest.User(t, e.r, "eve")
			used := link(t, e.r, "alice", acct.ID, rbac.RunpodBasic)
			accept(t, e.r, "bob", used.Token)
			revoked := link(t, e.r, "alice", acct.ID, rbac.RunpodBasic)
			if err := e.r.Invites.Revoke(ctx, "alice", acct.ID, revoked.ID); err != nil {
				t.Fatal(err)
			}
			expiring := link(t, e.r, "alice", acct.ID, rbac.RunpodBasic, invites.ExpiresIn(time.Hour))
			pending := link(t, e.r, "alice", acct.ID, rbac.RunpodBasic)
			theirs := link(t, e.r, "olga", other.ID, rbac.RunpodBasic)
			e.clock.Advance(2 * time.Hour)

			for _, c := range []struct {
				name, actor, account, invite string
				want                         error
			}{
				{"used up", "alice", acct.ID, used.ID, invites.ErrUsed},
				{"revoked", "alice", acct.ID, revoked.ID, invites.ErrRevoked},
				{"expired", "alice", acct.ID, expiring.ID, invites.ErrExpired},
				{"a member not allowed to invite", "dev", acct.ID, pending.ID, rbac.ErrDenied},
				{"an outsider", "eve", acct.ID, pending.ID, rbac.ErrNotMember},
				{"another team's invite", "alice", acct.ID, theirs.ID, store.ErrNotFound},
				{"no such invite", "alice", acct.ID, "inv_nope", store.ErrNotFound},
			} {
				n := countEvents(t, e.s, acct.ID, string(store.EventInviteLinkCopied), store.Allowed)
				hash := storedInvite(t, e.s, pending.ID).TokenHash
				got, err := e.r.Invites.Link(ctx, c.actor, c.account, c.invite)
				if !errors.Is(err, c.want) || got.Token != "" || got.Link != "" {
					t.Errorf("%s: Link = %+v, %v; want no link and %v", c.name, got, err, c.want)
				}
				if m := countEvents(t, e.s, acct.ID, string(store.EventInviteLinkCopied), store.Allowed); m != n {
					t.Errorf("%s: a refused copy recorded %d invite.link_copied events", c.name, m-n)
				}
				if !bytes.Equal(storedInvite(t, e.s, pending.ID).TokenHash, hash) {
					t.Errorf("%s: the refusal changed a token", c.name)
				}
			}
			if got := countEvents(t, e.s, acct.ID, string(store.EventInviteLinkCopied), store.Denied); got != 1 {
				t.Errorf("%d denied invite.link_copied events, want the dev's one", got)
			}
		})
	})
}

// TestDerivedTokensAreRefusedWithoutARead checks that Accept and Preview
// refuse a derived token that is tampered with, truncated or made with a
// secret the Service lacks, before they touch the store.
func TestDerivedTokensAreRefusedWithoutARead(t *testing.T) {
	ctx := context.Background()
	k1 := secret(t, "k1", 1)
	e := newInviteEnv(t, sqlite(), rbac.Runpod(), invites.WithLinkSecrets(k1))
	acct := rostertest.Team(t, e.r, "alice", nil)
	tok := link(t, e.r, "alice", acct.ID, rbac.RunpodDev).Token

	svc, err := invites.New(unreadable{t: t}, rbac.Runpod(), invites.WithLinkSecrets(k1))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		c := byte('A')
		if tok[i] == c {
			c = 'B'
		}
		return tok[:i] + string(c) + tok[i+1:]
	}
	for name, c := range map[string]struct {
		tok  string
		want error
	}{
		"truncated":                 {tok[:len(tok)-1], store.ErrInvalid},
		"extended":                  {tok + "A", store.ErrInvalid},
		"a nonce byte changed":      {flip(len("rsti_k1_") + 3), store.ErrInvalid},
		"a tag byte changed":        {flip(len(tok) - 20), store.ErrInvalid},
		"the checksum changed":      {flip(len(tok) - 2), store.ErrInvalid},
		"the key ID changed":        {"rsti_k2_" + tok[len("rsti_k1_"):], store.ErrInvalid},
		"under an unconfigured key": {derivedWith(t, secret(t, "k9", 9)), invites.ErrUnknownToken},
	} {
		if _, err := svc.Accept(ctx, "bob", c.tok); !errors.Is(err, c.want) {
			t.Errorf("Accept of a token %s: %v, want %v", name, err, c.want)
		}
		if _, err := svc.Preview(ctx, c.tok); !errors.Is(err, c.want) {
			t.Errorf("Preview of a token %s: %v, want %v", name, err, c.want)
		}
	}
}

// sqlite returns the SQLite backend.
func sqlite() testdb.Backend { return testdb.Backends()[0] }

// derivedWith returns the token of a link made by a Service with secret
// sec, on a store of its own.
func derivedWith(t *testing.T, sec invites.Secret) string {
	t.Helper()
	e := newInviteEnv(t, sqlite(), rbac.Runpod(), invites.WithLinkSecrets(sec))
	acct := rostertest.Team(t, e.r, "alice", nil)
	return link(t, e.r, "alice", acct.ID, rbac.RunpodDev).Token
}

func TestSecrets(t *testing.T) {
	key := bytes.Repeat([]byte{7}, invites.MinSecretLen)
	t.Run("a short key is refused", func(t *testing.T) {
		if _, err := invites.NewSecret("k1", key[:invites.MinSecretLen-1]); !errors.Is(err, invites.ErrWeakSecret) || !errors.Is(err, store.ErrInvalid) {
			t.Errorf("NewSecret with %d bytes: %v, want ErrWeakSecret, invalid", invites.MinSecretLen-1, err)
		}
	})
	t.Run("a malformed key ID is refused", func(t *testing.T) {
		for _, id := range []string{"", "k_1", "k 1", strings.Repeat("k", 17), "ké"} {
			if _, err := invites.NewSecret(id, key); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("NewSecret(%q): %v, want store.ErrInvalid", id, err)
			}
		}
	})
	t.Run("the key is copied and never printed", func(t *testing.T) {
		mine := bytes.Clone(key)
		s, err := invites.NewSecret("k1", mine)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
			if out := fmt.Sprintf(f, s); strings.Contains(out, "7") || !strings.Contains(out, "k1") {
				t.Errorf("Sprintf(%s) = %q, want the key ID without the key", f, out)
			}
		}
		clear(mine)
		e := newInviteEnv(t, sqlite(), rbac.Runpod(), invites.WithLinkSecrets(s))
		acct := rostertest.Team(t, e.r, "alice", nil)
		inv := link(t, e.r, "alice", acct.ID, rbac.RunpodDev)
		same := newInviteEnvOn(t, e.s, rbac.Runpod(), invites.WithLinkSecrets(secret(t, "k1", 7)))
		if again := copyLink(t, same, "alice", acct.ID, inv.ID); again.Token != inv.Token {
			t.Errorf("a Service with the key as given copies %q, want %q", again.Token, inv.Token)
		}
	})
	t.Run("New refuses a zero secret and two secrets with one key ID", func(t *testing.T) {
		s := secret(t, "k1", 1)
		for name, opt := range map[string]invites.Option{
			"zero current": invites.WithLinkSecrets(invites.Secret{}),
			"zero old":     invites.WithLinkSecrets(s, invites.Secret{}),
			"one key ID":   invites.WithLinkSecrets(s, secret(t, "k1", 2)),
		} {
			if _, err := invites.New(unreadable{t: t}, rbac.Runpod(), opt); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%s: New = %v, want store.ErrInvalid", name, err)
			}
		}
	})
}
