package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/teamroster/roster/store"
)

// errFromFn is the error the tests' functions return to roll back.
var errFromFn = errors.New("storetest: error returned by fn")

// writeAll creates one of every record: user u1, account team1 (with a
// seat limit), membership team1/u1 (with an end time), invite inv1,
// transfer tr1, API key key_1 of u1, team1's claim of example.com, which it
// then verifies, and one event.
func writeAll(ctx context.Context, tx store.Tx) error {
	if err := tx.CreateUser(ctx, newUser("u1")); err != nil {
		return err
	}
	team := newAccount("team1", "u1")
	team.SeatLimit = 5
	if err := tx.CreateAccount(ctx, team); err != nil {
		return err
	}
	if err := tx.CreateMember(ctx, store.Member{AccountID: "team1", UserID: "u1", Role: "admin", JoinedAt: at(0), Until: at(9)}); err != nil {
		return err
	}
	if err := tx.CreateInvite(ctx, newInvite("inv1", "team1", at(1))); err != nil {
		return err
	}
	if err := tx.CreateTransfer(ctx, newTransfer("tr1", "team1", at(2))); err != nil {
		return err
	}
	if err := tx.CreateAPIKey(ctx, newAPIKey("key_1", "team1", "u1", at(2))); err != nil {
		return err
	}
	d := newDomain("example.com", "team1", at(2))
	if err := tx.CreateDomain(ctx, d); err != nil {
		return err
	}
	if err := tx.UpdateDomain(ctx, verifiedDomain(d, at(3))); err != nil {
		return err
	}
	_, err := tx.AppendEvent(ctx, store.Event{AccountID: "team1", Action: "member.joined", Time: at(3)})
	return err
}

// checkNothingWritten fails the test unless the records of writeAll are all
// absent and no revision was committed.
func checkNothingWritten(t *testing.T, s store.Store) {
	t.Helper()
	view(t, s, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.User(ctx, "u1")
		checkErr(t, "User after rollback", err, store.ErrNotFound)
		_, err = tx.Account(ctx, "team1")
		checkErr(t, "Account after rollback", err, store.ErrNotFound)
		_, err = tx.Member(ctx, "team1", "u1")
		checkErr(t, "Member after rollback", err, store.ErrNotFound)
		_, err = tx.Invite(ctx, "inv1")
		checkErr(t, "Invite after rollback", err, store.ErrNotFound)
		_, err = tx.Transfer(ctx, "tr1")
		checkErr(t, "Transfer after rollback", err, store.ErrNotFound)
		_, err = tx.APIKey(ctx, "key_1")
		checkErr(t, "APIKey after rollback", err, store.ErrNotFound)
		_, err = tx.Domain(ctx, "example.com", "team1")
		checkErr(t, "Domain after rollback", err, store.ErrNotFound)
		_, err = tx.VerifiedDomain(ctx, "example.com")
		checkErr(t, "VerifiedDomain after rollback", err, store.ErrNotFound)
		domains, err := tx.Domains(ctx, "team1")
		if err != nil {
			return err
		}
		if len(domains) != 0 {
			t.Errorf("Domains after rollback = %+v, want none", domains)
		}
		expired, err := tx.ExpiredMembers(ctx, at(10), 0)
		if err != nil {
			return err
		}
		if len(expired) != 0 {
			t.Errorf("ExpiredMembers after rollback = %+v, want none", expired)
		}
		members, pending, err := tx.Seats(ctx, "team1", at(0))
		if err != nil {
			return err
		}
		if members != 0 || pending != 0 {
			t.Errorf("Seats after rollback = %d members, %d pending; want none", members, pending)
		}
		events, err := tx.Events(ctx, store.EventFilter{})
		if err != nil {
			return err
		}
		if len(events) != 0 {
			t.Errorf("Events after rollback = %+v, want none", events)
		}
		return nil
	})
	if rev := currentRevision(t, s); rev != 0 {
		t.Errorf("revision after rollback = %d, want 0", rev)
	}
	if changes := changesAfter(t, s, 0); len(changes) != 0 {
		t.Errorf("Changes after rollback = %+v, want none", changes)
	}
}

func (s suite) transactions() []test {
	return []test{
		{"update commits every write of fn", func(t *testing.T) {
			st := s.open(t)
			update(t, st, writeAll)
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				if _, err := tx.User(ctx, "u1"); err != nil {
					return err
				}
				if _, err := tx.Member(ctx, "team1", "u1"); err != nil {
					return err
				}
				if _, err := tx.Invite(ctx, "inv1"); err != nil {
					return err
				}
				if _, err := tx.Transfer(ctx, "tr1"); err != nil {
					return err
				}
				if _, err := tx.APIKey(ctx, "key_1"); err != nil {
					return err
				}
				if _, err := tx.VerifiedDomain(ctx, "example.com"); err != nil {
					return err
				}
				events, err := tx.Events(ctx, store.EventFilter{AccountID: "team1"})
				if err != nil {
					return err
				}
				if len(events) != 1 {
					t.Errorf("got %d events, want 1", len(events))
				}
				return nil
			})
		}},
		{"reads in update see the transaction's own writes", func(t *testing.T) {
			st := s.open(t)
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := writeAll(ctx, tx); err != nil {
					return err
				}
				ms, err := tx.Members(ctx, "team1", store.Range{})
				if err != nil {
					return err
				}
				if len(ms) != 1 {
					t.Errorf("Members inside the transaction = %+v, want one", ms)
				}
				if _, err := tx.InviteByToken(ctx, newInvite("inv1", "team1", at(1)).TokenHash); err != nil {
					return err
				}
				if _, err := tx.VerifiedDomain(ctx, "example.com"); err != nil {
					return err
				}
				_, err = tx.LockAccount(ctx, "team1")
				return err
			})
		}},
		{"error from fn rolls back and is returned unchanged", func(t *testing.T) {
			st := s.open(t)
			c, err := st.Update(t.Context(), func(tx store.Tx) error {
				if err := writeAll(t.Context(), tx); err != nil {
					t.Errorf("writeAll: %v", err)
				}
				return errFromFn
			})
			if err != errFromFn {
				t.Errorf("Update returned %v, want fn's error unchanged", err)
			}
			checkEqual(t, "commit of a rolled-back Update", store.Commit{}, c)
			checkNothingWritten(t, st)
		}},
		{"panic in fn rolls back and panics on", func(t *testing.T) {
			st := s.open(t)
			type boom struct{}
			func() {
				defer func() {
					if r := recover(); r != (boom{}) {
						t.Errorf("recovered %v, want fn's panic value", r)
					}
				}()
				_, err := st.Update(t.Context(), func(tx store.Tx) error {
					if err := writeAll(t.Context(), tx); err != nil {
						t.Errorf("writeAll: %v", err)
					}
					panic(boom{})
				})
				t.Errorf("Update returned %v after fn panicked", err)
			}()
			checkNothingWritten(t, st)
			// The Store still works.
			update(t, st, writeAll)
		}},
		{"view returns fn's error unchanged", func(t *testing.T) {
			st := s.open(t)
			err := st.View(t.Context(), func(store.Tx) error { return errFromFn })
			if err != errFromFn {
				t.Errorf("View returned %v, want fn's error unchanged", err)
			}
		}},
		{"view sees committed writes", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.User(ctx, "u1")
				return err
			})
		}},
		{"writes in view return ErrInvalid and change nothing", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u0")
			seedAccounts(t, st, "team0")
			seedMember(t, st, "team0", "u0", "admin", at(0))
			update(t, st, func(ctx context.Context, tx store.Tx) error {
				if err := tx.CreateInvite(ctx, newInvite("inv0", "team0", at(0))); err != nil {
					return err
				}
				if err := tx.CreateAPIKey(ctx, newAPIKey("key_0", "team0", "u0", at(0))); err != nil {
					return err
				}
				if err := tx.CreateDomain(ctx, newDomain("zero.example", "team0", at(0))); err != nil {
					return err
				}
				return tx.CreateTransfer(ctx, newTransfer("tr0", "team0", at(0)))
			})
			revBefore := currentRevision(t, st)
			changedInvite := newInvite("inv0", "team0", at(0))
			changedInvite.Status = store.InviteRevoked
			changedTransfer := newTransfer("tr0", "team0", at(0))
			changedTransfer.Status = store.TransferCancelled
			changedAccount := newAccount("team0", "owner")
			changedAccount.Name = "Renamed"
			changedUser := newUser("u0")
			changedUser.Name = "Renamed"
			writes := map[string]func(ctx context.Context, tx store.Tx) error{
				"CreateUser":    func(ctx context.Context, tx store.Tx) error { return tx.CreateUser(ctx, newUser("u1")) },
				"UpdateUser":    func(ctx context.Context, tx store.Tx) error { return tx.UpdateUser(ctx, changedUser) },
				"CreateAccount": func(ctx context.Context, tx store.Tx) error { return tx.CreateAccount(ctx, newAccount("team1", "u0")) },
				"UpdateAccount": func(ctx context.Context, tx store.Tx) error { return tx.UpdateAccount(ctx, changedAccount) },
				"CreateMember": func(ctx context.Context, tx store.Tx) error {
					return tx.CreateMember(ctx, store.Member{AccountID: "team0", UserID: "u1", Role: "dev"})
				},
				"UpdateMember": func(ctx context.Context, tx store.Tx) error {
					return tx.UpdateMember(ctx, store.Member{AccountID: "team0", UserID: "u0", Role: "dev"})
				},
				"DeleteMember": func(ctx context.Context, tx store.Tx) error { return tx.DeleteMember(ctx, "team0", "u0") },
				"CreateInvite": func(ctx context.Context, tx store.Tx) error {
					return tx.CreateInvite(ctx, newInvite("inv1", "team0", at(1)))
				},
				"UpdateInvite": func(ctx context.Context, tx store.Tx) error { return tx.UpdateInvite(ctx, changedInvite) },
				"CreateInviteUse": func(ctx context.Context, tx store.Tx) error {
					return tx.CreateInviteUse(ctx, store.InviteUse{InviteID: "inv0", UserID: "u0"})
				},
				"CreateTransfer": func(ctx context.Context, tx store.Tx) error {
					return tx.CreateTransfer(ctx, newTransfer("tr1", "team0", at(1)))
				},
				"UpdateTransfer": func(ctx context.Context, tx store.Tx) error { return tx.UpdateTransfer(ctx, changedTransfer) },
				"CreateAPIKey": func(ctx context.Context, tx store.Tx) error {
					return tx.CreateAPIKey(ctx, newAPIKey("key_1", "team0", "u0", at(1)))
				},
				"UpdateAPIKey": func(ctx context.Context, tx store.Tx) error {
					return tx.UpdateAPIKey(ctx, revokedKey(newAPIKey("key_0", "team0", "u0", at(0)), at(1)))
				},
				"TouchAPIKeys": func(ctx context.Context, tx store.Tx) error {
					return tx.TouchAPIKeys(ctx, []store.APIKeyUse{{ID: "key_0", At: at(1), IP: "192.0.2.1"}})
				},
				"CreateDomain": func(ctx context.Context, tx store.Tx) error {
					return tx.CreateDomain(ctx, newDomain("one.example", "team0", at(1)))
				},
				"UpdateDomain": func(ctx context.Context, tx store.Tx) error {
					return tx.UpdateDomain(ctx, verifiedDomain(newDomain("zero.example", "team0", at(0)), at(1)))
				},
				"DeleteDomain": func(ctx context.Context, tx store.Tx) error { return tx.DeleteDomain(ctx, "zero.example", "team0") },
				"AppendEvent": func(ctx context.Context, tx store.Tx) error {
					_, err := tx.AppendEvent(ctx, store.Event{AccountID: "team0", Action: "x"})
					return err
				},
			}
			for _, name := range sortedKeys(writes) {
				err := st.View(t.Context(), func(tx store.Tx) error { return writes[name](t.Context(), tx) })
				checkErr(t, name+" in View", err, store.ErrInvalid)
			}
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				u, err := tx.User(ctx, "u0")
				if err != nil {
					return err
				}
				checkEqual(t, "user", newUser("u0"), u)
				_, err = tx.User(ctx, "u1")
				checkErr(t, "User(u1)", err, store.ErrNotFound)
				a, err := tx.Account(ctx, "team0")
				if err != nil {
					return err
				}
				checkEqual(t, "account", newAccount("team0", "owner"), a)
				_, err = tx.Account(ctx, "team1")
				checkErr(t, "Account(team1)", err, store.ErrNotFound)
				m, err := tx.Member(ctx, "team0", "u0")
				if err != nil {
					return err
				}
				checkEqual(t, "member", store.Member{AccountID: "team0", UserID: "u0", Role: "admin", JoinedAt: at(0)}, m)
				invites, err := tx.Invites(ctx, "team0", store.Range{})
				if err != nil {
					return err
				}
				checkEqual(t, "invites", []store.Invite{newInvite("inv0", "team0", at(0))}, invites)
				uses, err := tx.InviteUses(ctx, "inv0")
				if err != nil {
					return err
				}
				if len(uses) != 0 {
					t.Errorf("invite uses = %+v, want none", uses)
				}
				transfers, err := tx.Transfers(ctx, "team0", store.Range{})
				if err != nil {
					return err
				}
				checkEqual(t, "transfers", []store.Transfer{newTransfer("tr0", "team0", at(0))}, transfers)
				keys, err := tx.APIKeys(ctx, "team0", "", store.Range{})
				if err != nil {
					return err
				}
				checkEqual(t, "API keys", []store.APIKey{newAPIKey("key_0", "team0", "u0", at(0))}, keys)
				domains, err := tx.Domains(ctx, "team0")
				if err != nil {
					return err
				}
				checkEqual(t, "domains", []store.Domain{newDomain("zero.example", "team0", at(0))}, domains)
				events, err := tx.Events(ctx, store.EventFilter{})
				if err != nil {
					return err
				}
				if len(events) != 0 {
					t.Errorf("events = %+v, want none", events)
				}
				return nil
			})
			if rev := currentRevision(t, st); rev != revBefore {
				t.Errorf("revision = %d after writes in View, want %d", rev, revBefore)
			}
		}},
		{"failed writes leave the transaction usable", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			seedAccounts(t, st, "team1")
			seedMember(t, st, "team1", "u1", "admin", at(0))
			seedDomains(t, st, newDomain("example.com", "team1", at(0)))
			rev := currentRevision(t, st)
			c := update(t, st, func(ctx context.Context, tx store.Tx) error {
				checkErr(t, "CreateUser of an existing ID", tx.CreateUser(ctx, newUser("u1")), store.ErrExists)
				checkErr(t, "CreateAccount of an existing ID", tx.CreateAccount(ctx, newAccount("team1", "x")), store.ErrExists)
				checkErr(t, "CreateMember of an existing membership",
					tx.CreateMember(ctx, store.Member{AccountID: "team1", UserID: "u1", Role: "dev"}), store.ErrExists)
				checkErr(t, "CreateMember of an unknown user",
					tx.CreateMember(ctx, store.Member{AccountID: "team1", UserID: "nobody", Role: "dev"}), store.ErrNotFound)
				checkErr(t, "CreateInvite in an unknown account", tx.CreateInvite(ctx, newInvite("inv9", "nope", at(0))), store.ErrNotFound)
				checkErr(t, "UpdateMember of a non-member",
					tx.UpdateMember(ctx, store.Member{AccountID: "team1", UserID: "nobody", Role: "dev"}), store.ErrNotFound)
				checkErr(t, "CreateDomain of a claim the team has", tx.CreateDomain(ctx, newDomain("example.com", "team1", at(1))), store.ErrExists)
				checkErr(t, "CreateDomain in an unknown account", tx.CreateDomain(ctx, newDomain("example.com", "nope", at(1))), store.ErrNotFound)
				checkErr(t, "UpdateDomain of an unknown claim",
					tx.UpdateDomain(ctx, verifiedDomain(newDomain("other.example", "team1", at(1)), at(2))), store.ErrNotFound)
				checkErr(t, "DeleteDomain of an unknown claim", tx.DeleteDomain(ctx, "other.example", "team1"), store.ErrNotFound)
				_, err := tx.AppendEvent(ctx, store.Event{AccountID: "nope", Action: "x"})
				checkErr(t, "AppendEvent to an unknown account", err, store.ErrNotFound)
				_, err = tx.AppendEvent(ctx, store.Event{AccountID: "team1"})
				checkErr(t, "AppendEvent without action", err, store.ErrInvalid)
				_, err = tx.Account(ctx, "nope")
				checkErr(t, "Account(nope)", err, store.ErrNotFound)
				// The transaction goes on and commits.
				if err := tx.CreateUser(ctx, newUser("u2")); err != nil {
					return err
				}
				return tx.CreateMember(ctx, store.Member{AccountID: "team1", UserID: "u2", Role: "dev", JoinedAt: at(1)})
			})
			want := store.Commit{Revision: rev + 1, Changes: []store.Change{
				{Revision: rev + 1, Op: store.MemberSet, AccountID: "team1", UserID: "u2", Role: "dev", SignIn: store.SignInEmail},
			}}
			checkEqual(t, "commit", want, c)
			view(t, st, func(ctx context.Context, tx store.Tx) error {
				_, err := tx.Member(ctx, "team1", "u2")
				return err
			})
		}},
		{"closed store returns ErrClosed", func(t *testing.T) {
			st := s.open(t)
			seedUsers(t, st, "u1")
			if err := st.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			ctx := t.Context()
			_, err := st.Update(ctx, func(tx store.Tx) error {
				t.Error("Update ran fn after Close")
				return nil
			})
			checkErr(t, "Update after Close", err, store.ErrClosed)
			err = st.View(ctx, func(tx store.Tx) error {
				t.Error("View ran fn after Close")
				return nil
			})
			checkErr(t, "View after Close", err, store.ErrClosed)
			_, err = st.Snapshot(ctx, func(store.SnapshotItem) error { return nil })
			checkErr(t, "Snapshot after Close", err, store.ErrClosed)
			_, err = st.Changes(ctx, 0, 0)
			checkErr(t, "Changes after Close", err, store.ErrClosed)
			if err := st.Close(); err != nil {
				t.Errorf("second Close: %v, want nil", err)
			}
		}},
	}
}
