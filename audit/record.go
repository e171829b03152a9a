package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Entry is an event the host application records in an account's log, such
// as a Pod created or an endpoint deleted.
type Entry struct {
	// Action names what happened: lowercase words of letters, digits and
	// underscores joined by dots, at least two of them ("pod.created"), and
	// not in one of roster's namespaces (see Reserved).
	Action string
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
	// MaxValueLen bytes each; they are stored compacted. Keys that name a
	// secret (token, secret, password, api_key, private_key, authorization,
	// cookie, credentials and the like, in any case, with or without "_" or
	// "-") are refused: never put secrets in the log.
	Before, After string
}

// reservedNamespaces are the first words of roster's own actions.
var reservedNamespaces = []string{"account", "audit", "invite", "member", "role", "roster", "team", "transfer", "user"}

// Reserved reports whether action lies in one of roster's own namespaces
// (account, audit, invite, member, role, roster, team, transfer, user), which
// host events may not use.
func Reserved(action string) bool {
	ns, _, _ := strings.Cut(action, ".")
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
// connected to a Pod must work. Record returns the stored event, or an error
// wrapping store.ErrInvalid (malformed input, or an action reserved for
// roster, which also wraps ErrReserved), store.ErrNotFound (no such
// account) or rbac.ErrNotMember; nothing is written then.
func (s *Service) Record(ctx context.Context, actor, accountID string, e Entry) (store.Event, error) {
	fail := func(err error) (store.Event, error) {
		return store.Event{}, fmt.Errorf("audit: record %q in %q by %q: %w", store.CleanText(e.Action, store.MaxIDLen), accountID, actor, err)
	}
	if err := store.ValidateIDs("actor", actor, "account ID", accountID); err != nil {
		return fail(err)
	}
	ev, err := e.event()
	if err != nil {
		return fail(err)
	}
	ev.AccountID, ev.Actor = accountID, actor
	_, err = s.store.Update(ctx, func(tx store.Tx) error {
		if err := member(ctx, tx, actor, accountID); err != nil {
			return err
		}
		ev.Time = s.now()
		var err error
		ev, err = tx.AppendEvent(ctx, ev)
		return err
	})
	if err != nil {
		return fail(err)
	}
	return ev, nil
}

// member returns nil if userID is a member of the account.
func member(ctx context.Context, tx store.Tx, userID, accountID string) error {
	if _, err := tx.Account(ctx, accountID); err != nil {
		return err
	}
	if _, err := tx.Member(ctx, accountID, userID); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%s is not a member of %s: %w", userID, accountID, rbac.ErrNotMember)
	} else if err != nil {
		return err
	}
	return nil
}

// event validates e and returns it as an event without account and actor.
func (e Entry) event() (store.Event, error) {
	if err := validAction(e.Action); err != nil {
		return store.Event{}, err
	}
	if Reserved(e.Action) {
		return store.Event{}, fmt.Errorf("%w: %w: %q", store.ErrInvalid, ErrReserved, e.Action)
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
		return store.Event{}, fmt.Errorf("%w: unknown result %q", store.ErrInvalid, store.CleanText(string(e.Result), 32))
	}
	if err := validReason(e.Reason); err != nil {
		return store.Event{}, err
	}
	before, err := validValue("before value", e.Before)
	if err != nil {
		return store.Event{}, err
	}
	after, err := validValue("after value", e.After)
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
		return fmt.Errorf("%w: action %q %s", store.ErrInvalid, store.CleanText(a, store.MaxIDLen), why)
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

// validValue checks a Before or After value and returns it compacted: empty,
// or a JSON object of at most MaxValueLen bytes of valid UTF-8 with no key
// that names a secret.
func validValue(what, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	switch {
	case len(v) > MaxValueLen:
		return "", fmt.Errorf("%w: %s is longer than %d bytes", store.ErrInvalid, what, MaxValueLen)
	case !utf8.ValidString(v):
		return "", fmt.Errorf("%w: %s is not valid UTF-8", store.ErrInvalid, what)
	case !json.Valid([]byte(v)):
		return "", fmt.Errorf("%w: %s is not valid JSON", store.ErrInvalid, what)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(v)); err != nil {
		return "", fmt.Errorf("%w: %s is not valid JSON", store.ErrInvalid, what)
	}
	if compact.Len() == 0 || compact.Bytes()[0] != '{' {
		return "", fmt.Errorf("%w: %s is not a JSON object", store.ErrInvalid, what)
	}
	dec := json.NewDecoder(bytes.NewReader(compact.Bytes()))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return "", fmt.Errorf("%w: %s is not valid JSON", store.ErrInvalid, what)
	}
	if key, ok := secretKey(doc); ok {
		return "", fmt.Errorf("%w: %s has the key %q, which names a secret: never put secrets in the audit log",
			store.ErrInvalid, what, store.CleanText(key, store.MaxIDLen))
	}
	return compact.String(), nil
}

// secretKeys are the object keys, lowercased and stripped of '_', '-', '.'
// and spaces, that Record refuses.
var secretKeys = map[string]bool{
	"token": true, "accesstoken": true, "refreshtoken": true, "idtoken": true, "authtoken": true,
	"bearertoken": true, "invitetoken": true, "sessiontoken": true, "apitoken": true,
	"secret": true, "clientsecret": true, "secretkey": true, "password": true, "passwd": true,
	"passphrase": true, "apikey": true, "privatekey": true, "authorization": true, "cookie": true,
	"setcookie": true, "credential": true, "credentials": true, "sessionid": true,
}

// secretKey returns the first key of v, at any depth, that names a secret.
func secretKey(v any) (string, bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			norm := strings.Map(func(r rune) rune {
				if r == '_' || r == '-' || r == '.' || r == ' ' {
					return -1
				}
				return unicode.ToLower(r)
			}, k)
			if secretKeys[norm] {
				return k, true
			}
			if key, ok := secretKey(child); ok {
				return key, true
			}
		}
	case []any:
		for _, child := range v {
			if key, ok := secretKey(child); ok {
				return key, true
			}
		}
	}
	return "", false
}
