package audit

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/internal/text"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/store"
)

// Entry is an event the host application records in an account's log, such
// as a Pod created or an endpoint deleted.
type Entry struct {
	// Action names what happened: lowercase words of letters, digits and
	// underscores joined by dots, at least two of them ("pod.created"), and
	// not in one of roster's namespaces (see Reserved).
	Action store.EventAction
	// ResourceType and ResourceID name what was acted on ("pod",
	// "pod_7f3a"); each is optional and, when set, an identifier of at most
	// store.MaxIDLen bytes without spaces or control characters.
	ResourceType string
	ResourceID   string
	// Result says whether the attempt was carried out; empty means
	// store.Allowed.
	Result store.Result
	// Reason explains a result, at most MaxReasonLen characters of text
	// without control or format characters.
	Reason string
	// Before and After hold the changed values as a JSON object, at most
	// MaxValueLen bytes each; they are stored compacted, with their keys in
	// the order given. The value of every key, at any depth, that names a
	// secret is stored as the string "[REDACTED]": a key names one when,
	// folded from fullwidth to ASCII forms, lowercased and stripped of all
	// but letters and digits, it contains token, secret, password, passwd,
	// pwd, passphrase, apikey, accesskey, privatekey, credential,
	// authorization, bearer, jwt, cookie, sessionid or signature (so
	// "github_token", "X-Api-Key" and "max_tokens" are redacted, "key" and
	// "public_key" are not). Never put secrets in the log all the same.
	Before, After string
}

// reservedNamespaces are the first words of roster's own actions.
var reservedNamespaces = []string{"account", "api_key", "audit", "domain", "invite", "member", "role", "roster", "team", "transfer", "user"}

// Reserved reports whether action lies in one of roster's own namespaces
// (account, api_key, audit, domain, invite, member, role, roster, team, transfer, user), which
// host events may not use.
func Reserved(action store.EventAction) bool {
	ns, _, _ := strings.Cut(string(action), ".")
	for _, r := range reservedNamespaces {
		if ns == r {
			return true
		}
	}
	return false
}

// Record appends the host application's event e to the account's log, by
// actor, at the current time, with the request metadata of ctx (see
// store.WithRequest), chained like every other event. The actor must be a
// member of the account, with any role: recording that a basic user
// connected to a Pod must work. The account is locked while the membership is
// checked and the event appended, so a host event racing the actor's removal
// is refused if the removal commits first, and is logged before it
// otherwise. Record returns the stored event, or an error
// wrapping store.ErrInvalid (malformed input, or an action reserved for
// roster: ErrReserved, which wraps it), store.ErrNotFound (no such
// account) or rbac.ErrNotMember; nothing is written then.
func (s *Service) Record(ctx context.Context, actor, accountID string, e Entry) (store.Event, error) {
	fail := func(err error) (store.Event, error) {
		return store.Event{}, fmt.Errorf("record %q in %q by %q: %w", text.Clean(string(e.Action), store.MaxIDLen), accountID, actor, err)
	}
	if err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID)); err != nil {
		return fail(err)
	}
	ev, err := e.event()
	if err != nil {
		return fail(err)
	}
	_, err = s.door.Update(ctx, txn.Call{Actor: actor, Account: accountID, Need: txn.Membership, KeyActor: true}, func(c *txn.Change) error {
		var err error
		ev, err = c.Record(ev)
		return err
	})
	if err != nil {
		return fail(err)
	}
	return ev, nil
}

// event validates e and returns it as an event without account and actor.
func (e Entry) event() (store.Event, error) {
	if err := validAction(string(e.Action)); err != nil {
		return store.Event{}, err
	}
	if Reserved(e.Action) {
		return store.Event{}, fmt.Errorf("%w: %q", ErrReserved, e.Action)
	}
	for _, v := range []struct{ what, s string }{{"resource type", e.ResourceType}, {"resource ID", e.ResourceID}} {
		if v.s != "" {
			if err := store.ValidateID(v.what, v.s); err != nil {
				return store.Event{}, err
			}
		}
	}
	result := e.Result
	switch result {
	case "":
		result = store.Allowed
	case store.Allowed, store.Denied:
	default:
		return store.Event{}, fmt.Errorf("%w: unknown result %q", store.ErrInvalid, text.Clean(string(e.Result), 32))
	}
	if err := validReason(e.Reason); err != nil {
		return store.Event{}, err
	}
	before, err := redact("before value", e.Before)
	if err != nil {
		return store.Event{}, err
	}
	after, err := redact("after value", e.After)
	if err != nil {
		return store.Event{}, err
	}
	return store.Event{
		Action: store.EventAction(e.Action), ResourceType: e.ResourceType, ResourceID: e.ResourceID,
		Result: result, Reason: e.Reason, Before: before, After: after,
	}, nil
}

// validAction checks an action name: at most store.MaxIDLen bytes of
// lowercase words ([a-z][a-z0-9_]*) joined by dots, at least two words.
func validAction(a string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: action %q %s", store.ErrInvalid, text.Clean(a, store.MaxIDLen), why)
	}
	if len(a) > store.MaxIDLen {
		return fmt.Errorf("%w: action is longer than %d bytes", store.ErrInvalid, store.MaxIDLen)
	}
	words := strings.Split(a, ".")
	if len(words) < 2 {
		return bad(`is not of the form "namespace.verb"`)
	}
	for _, w := range words {
		if w == "" || w[0] < 'a' || w[0] > 'z' {
			return bad("has a word that does not start with a lowercase letter")
		}
		for i := 1; i < len(w); i++ {
			if c := w[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
				return bad("contains a character other than a-z, 0-9, '_' and '.'")
			}
		}
	}
	return nil
}

// validReason checks a Reason: valid UTF-8, at most MaxReasonLen
// characters, no control, format or line separator characters.
func validReason(r string) error {
	switch {
	case !utf8.ValidString(r):
		return fmt.Errorf("%w: reason is not valid UTF-8", store.ErrInvalid)
	case utf8.RuneCountInString(r) > MaxReasonLen:
		return fmt.Errorf("%w: reason is longer than %d characters", store.ErrInvalid, MaxReasonLen)
	}
	for _, c := range r {
		if unicode.IsControl(c) || unicode.Is(unicode.Cf, c) || c == '\u2028' || c == '\u2029' {
			return fmt.Errorf("%w: reason contains the character %U", store.ErrInvalid, c)
		}
	}
	return nil
}
