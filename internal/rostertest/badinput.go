package rostertest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/teamroster/roster"
	"github.com/teamroster/roster/apikeys"
	"github.com/teamroster/roster/audit"
	"github.com/teamroster/roster/invites"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
	"github.com/teamroster/roster/teams"
)

// Hostile are the classes of bad string input BadInput feeds every public
// method. Values of the classes marked Data may be legitimate text (a team
// named "*"), so a method may accept them; the others never.
var Hostile = []HostileClass{
	{"empty", false, []string{""}},
	{"oversized", false, []string{strings.Repeat("a", 70_000)}},
	{"non-UTF-8", false, []string{"\xff\xfe", "a\xc3"}},
	{"control characters", false, []string{"a\x00b", "a\nb", "\x1b[31m"}},
	{"SQL-looking", true, []string{"' OR '1'='1", "x'); DROP TABLE roster_members; --"}},
	{"wildcard-looking", true, []string{"*", "%", "_", ","}},
}

// HostileClass is one class of bad string input.
type HostileClass struct {
	Class  string
	Data   bool // the values may be legitimate text
	Values []string
}

// Sentinels are the documented errors a refusal may wrap.
var Sentinels = []error{
	store.ErrInvalid, store.ErrNotFound, store.ErrExists,
	rbac.ErrNotMember, rbac.ErrDenied, rbac.ErrUnknownRole, rbac.ErrUnknownAction, rbac.ErrTopByTransfer,
	store.ErrNotTeam, teams.ErrAlreadyTeam, teams.ErrLastOwner, teams.ErrInvalidToken, teams.ErrRoleTooBroad,
	teams.ErrTransferClosed, teams.ErrRoleInUse,
	invites.ErrUnknownToken, invites.ErrRevoked, invites.ErrUsed,
	audit.ErrPruned,
	roster.ErrBadKey, apikeys.ErrRevoked,
}

// Receiver is a value whose exported methods BadInput calls: a *Roster or
// one of its services.
type Receiver struct {
	// Name names the receiver in failures ("teams").
	Name string
	// Value is the receiver.
	Value any
	// Calls gives, for every exported method, valid arguments after ctx,
	// of which BadInput swaps one string at a time (a string argument, a
	// string field of a struct argument, or the element of a string
	// slice) for a hostile value. A nil entry means the method takes no
	// string input.
	Calls map[string][]any
	// Ignored holds the inputs a method documents that it ignores, by
	// method and variant name ("CreateUser arg 1 field ActiveAccount").
	Ignored map[string]bool
}

// BadInput calls every exported method of each receiver, in order, with
// every hostile value in each string it takes, and fails t if a method is
// missing from its receiver's Calls, panics, accepts a value not marked
// Data, refuses with an error wrapping none of Sentinels, or, refusing,
// changes memberships or accounts (r's revision) or writes an event other
// than a denied one for a Data value; a Can (bool) answer of true is a
// failure. r and s are the Roster the receivers belong to and its store.
// Calls that accept may create what later calls see (a user named "*"). It
// returns the number of calls refused and accepted.
func BadInput(t testing.TB, r *roster.Roster, s store.Store, receivers []Receiver) (refused, accepted int) {
	t.Helper()
	ctx := context.Background()
	var last int64 // the newest event ID seen
	for _, e := range eventsAfter(t, s, 0) {
		last = max(last, e.ID)
	}
	for _, rc := range receivers {
		rv := reflect.ValueOf(rc.Value)
		for m := range rv.NumMethod() {
			method := rv.Type().Method(m).Name
			args, listed := rc.Calls[method]
			if !listed {
				t.Errorf("%s.%s is not in the bad input table: add its arguments to the receiver's Calls", rc.Name, method)
				continue
			}
			for _, h := range Hostile {
				for _, v := range h.Values {
					names, variants := variants(args, v)
					for i, vargs := range variants {
						if rc.Ignored[method+" "+names[i]] {
							continue
						}
						what := fmt.Sprintf("%s.%s %s %s %.20q", rc.Name, method, names[i], h.Class, v)
						rev := r.Revision()
						err, ok := call(ctx, rv.Method(m), vargs)
						if !ok {
							if err != nil {
								t.Errorf("%s: %v", what, err)
							}
							continue
						}
						if err == nil {
							for _, e := range eventsAfter(t, s, last) {
								last = max(last, e.ID)
							}
							if !h.Data {
								t.Errorf("%s: accepted", what)
							}
							accepted++
							continue
						}
						refused++
						if !slices.ContainsFunc(Sentinels, func(s error) bool { return errors.Is(err, s) }) {
							t.Errorf("%s: an error wrapping no documented sentinel: %v", what, err)
						}
						if cs, err2 := s.Changes(ctx, rev, 1); err2 != nil || len(cs) > 0 {
							t.Errorf("%s: refused (%v) but changed memberships or accounts: %v %v", what, err, cs, err2)
						}
						// Malformed input writes nothing; a well-formed
						// refusal may only be recorded as denied.
						for _, e := range eventsAfter(t, s, last) {
							last = max(last, e.ID)
							if !h.Data || e.Result != store.Denied {
								t.Errorf("%s: refused (%v) but wrote event %d %s (%s)", what, err, e.ID, e.Action, e.Result)
							}
						}
					}
				}
			}
		}
	}
	return refused, accepted
}

// variants returns copies of args with one string replaced by v, each with
// a name saying which. A string that is v already (an optional field left
// empty) is not replaced.
func variants(args []any, v string) (names []string, out [][]any) {
	for i, a := range args {
		rv := reflect.ValueOf(a)
		swap := func(name string, nv reflect.Value) {
			c := slices.Clone(args)
			c[i] = nv.Interface()
			names, out = append(names, name), append(out, c)
		}
		switch rv.Kind() {
		case reflect.String:
			if rv.String() == v {
				continue
			}
			swap(fmt.Sprintf("arg %d", i+1), reflect.ValueOf(v).Convert(rv.Type()))
		case reflect.Slice:
			if rv.Type().Elem().Kind() == reflect.String {
				s := reflect.MakeSlice(rv.Type(), 1, 1)
				s.Index(0).Set(reflect.ValueOf(v).Convert(rv.Type().Elem()))
				swap(fmt.Sprintf("arg %d element", i+1), s)
			}
		case reflect.Struct:
			for f := range rv.NumField() {
				if rv.Field(f).Kind() != reflect.String || !rv.Type().Field(f).IsExported() || rv.Field(f).String() == v {
					continue
				}
				nv := reflect.New(rv.Type()).Elem()
				nv.Set(rv)
				nv.Field(f).Set(reflect.ValueOf(v).Convert(rv.Field(f).Type()))
				swap(fmt.Sprintf("arg %d field %s", i+1, rv.Type().Field(f).Name), nv)
			}
		}
	}
	return names, out
}

// eventsAfter returns the events with an ID above id, of every account.
func eventsAfter(tb testing.TB, s store.Store, id int64) []store.Event {
	tb.Helper()
	return EventsWhere(tb, s, store.EventFilter{AfterID: id})
}

// call calls m with ctx and args, recovering a panic. It returns the
// call's error (for Can, an error if it allowed) and whether the method
// produced an answer to check; a panic is returned as an error with ok
// false.
func call(ctx context.Context, m reflect.Value, args []any) (err error, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			err, ok = fmt.Errorf("panic: %v", p), false
		}
	}()
	in := []reflect.Value{reflect.ValueOf(ctx)}
	for _, a := range args {
		in = append(in, reflect.ValueOf(a))
	}
	out := m.Call(in)
	switch res := out[len(out)-1].Interface().(type) {
	case error:
		return res, true
	case nil:
		return nil, true
	case bool: // Can
		if res {
			return errors.New("Can allowed it"), false
		}
		return fmt.Errorf("Can said no: %w", rbac.ErrDenied), true
	case roster.Decision:
		return res.Err, true
	}
	return nil, true
}
