package teams

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/teamroster/roster/internal/check"
	"github.com/teamroster/roster/internal/txn"
	"github.com/teamroster/roster/rbac"
	"github.com/teamroster/roster/store"
)

// Verified email domains. A team's owner claims a domain (AddDomain) and
// gets a challenge value to publish in the domain's DNS as a TXT record;
// the host application, which does the DNS lookup (roster does none),
// confirms it (ConfirmDomain). From then on a user who signs in with a
// verified address at that domain, which the host says by calling
// JoinByDomain, joins the team with the domain's role (DomainAutoJoin) or
// is shown it (DomainSuggest).

// ErrPublicDomain means the domain is one of the public mail services',
// whose addresses anyone may have, so no team may claim it. It wraps
// store.ErrInvalid.
var ErrPublicDomain = store.Kinded(store.ErrInvalid, "teams: a public mail domain cannot be claimed")

// ErrDomainTaken means another team has the domain verified: a domain is
// verified for one team at a time. It wraps store.ErrExists.
var ErrDomainTaken = store.Kinded(store.ErrExists, "teams: the domain is verified for another team")

// ChallengePrefix begins every domain challenge value.
const ChallengePrefix = "roster-domain-verification="

// publicDomains are mail services whose addresses anyone may get.
var publicDomains = []string{
	"163.com", "aol.com", "fastmail.com", "gmail.com", "gmx.com", "gmx.de", "gmx.net", "googlemail.com",
	"hey.com", "hotmail.com", "icloud.com", "live.com", "mac.com", "mail.com", "mail.ru", "me.com",
	"msn.com", "outlook.com", "pm.me", "proton.me", "protonmail.com", "qq.com", "tutanota.com",
	"web.de", "yahoo.com", "yandex.com", "yandex.ru", "zoho.com",
}

// ValidateDomain returns the canonical (lower-case) form of name if it is a
// registrable domain name that a team may claim: 2 to 127 dot-separated
// labels of 1 to 63 ASCII letters, digits and inner hyphens, 253 bytes at
// most, a top-level label that is not all digits, and not a public mail
// service's. It returns an error wrapping store.ErrInvalid (ErrPublicDomain
// for a public one) otherwise. It is safe for concurrent use.
func ValidateDomain(name string) (string, error) {
	d := strings.ToLower(name)
	if len(d) == 0 || len(d) > 253 {
		return "", fmt.Errorf("%w: a domain is 1 to 253 bytes", store.ErrInvalid)
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "", fmt.Errorf("%w: %q is not a registrable domain name", store.ErrInvalid, name)
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", fmt.Errorf("%w: %q is not a registrable domain name", store.ErrInvalid, name)
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", fmt.Errorf("%w: %q is not a registrable domain name", store.ErrInvalid, name)
			}
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "", fmt.Errorf("%w: %q is not a registrable domain name", store.ErrInvalid, name)
	}
	if slices.Contains(publicDomains, d) {
		return "", fmt.Errorf("%q: %w", d, ErrPublicDomain)
	}
	return d, nil
}

// AddDomain claims an email domain for the team, auto-joining users with
// role or suggesting the team to them (mode), and returns the claim with
// its Challenge, a value the host asks the domain's owner to publish in a
// DNS TXT record before it calls ConfirmDomain. Claiming it again changes
// its mode and role. Only the account owner may claim a domain (and needs
// rbac.SettingsManage), and role must be one they may grant. It records a
// domain.added event. It returns an error wrapping store.ErrInvalid (a name
// that is not registrable, ErrPublicDomain, an unknown mode), store.ErrNotFound,
// rbac.ErrNotMember, rbac.ErrDenied (ErrNotOwner among them),
// rbac.ErrUnknownRole, rbac.ErrTopByTransfer or store.ErrNotTeam.
func (s *Service) AddDomain(ctx context.Context, actor, accountID, name string, mode store.DomainMode, role rbac.Role) (store.Domain, error) {
	var out store.Domain
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID), check.ID("role", string(role)))
	if err == nil {
		name, err = ValidateDomain(name)
	}
	if err == nil && !mode.Valid() {
		err = fmt.Errorf("%w: domain mode %q is neither %q nor %q", store.ErrInvalid, mode, store.DomainAutoJoin, store.DomainSuggest)
	}
	if err == nil {
		err = s.permitted(ctx, actor, accountID, rbac.SettingsManage, store.EventDomainAdded, txn.Resource{Type: "domain", ID: name}, func(c *txn.Change) error {
			if c.Account.Kind != store.Team {
				return store.ErrNotTeam
			}
			if err := s.mustOwn(ctx, c); err != nil {
				return err
			}
			if err := c.MayGrant(role); err != nil {
				return err
			}
			d, err := c.Tx.Domain(ctx, name, accountID)
			switch {
			case errors.Is(err, store.ErrNotFound):
				d = store.Domain{Name: name, AccountID: accountID, Mode: mode, Role: string(role),
					Challenge: ChallengePrefix + strings.ToLower(rand.Text()), CreatedBy: actor, CreatedAt: c.Now()}
				err = c.Tx.CreateDomain(ctx, d)
			case err == nil:
				d.Mode, d.Role = mode, string(role)
				err = c.Tx.UpdateDomain(ctx, d)
			}
			if err != nil {
				return err
			}
			out = d
			_, err = c.Record(store.Event{Action: store.EventDomainAdded, ResourceType: "domain", ResourceID: name,
				After: txn.EventValue(map[string]string{"mode": string(mode), "role": string(role)})})
			return err
		})
	}
	if err != nil {
		return store.Domain{}, fmt.Errorf("add domain %q to %q by %q: %w", name, accountID, actor, err)
	}
	return out, nil
}

// ConfirmDomain records the host's confirmation that the team owns the
// domain it claimed: the host looked the domain's DNS TXT records up and
// found the claim's Challenge. It is the host's call, with no actor. It
// records a domain.verified event and returns the claim; a claim verified
// already is returned as it is. It returns an error wrapping
// store.ErrInvalid, store.ErrNotFound (no such team or claim) or
// ErrDomainTaken (another team has it verified; nothing changes).
func (s *Service) ConfirmDomain(ctx context.Context, accountID, name string) (store.Domain, error) {
	var out store.Domain
	err := check.IDs(check.ID("account ID", accountID))
	if err == nil {
		name, err = ValidateDomain(name)
	}
	if err == nil {
		_, err = s.door.Update(ctx, txn.Call{Account: accountID, Need: txn.Anyone}, func(c *txn.Change) error {
			d, err := c.Tx.Domain(ctx, name, accountID)
			if err != nil {
				return err
			}
			out = d
			if d.Verified() {
				return nil
			}
			d.VerifiedAt = c.Now()
			if err := c.Tx.UpdateDomain(ctx, d); errors.Is(err, store.ErrExists) {
				return ErrDomainTaken
			} else if err != nil {
				return err
			}
			out = d
			_, err = c.Record(store.Event{Action: store.EventDomainVerified, ResourceType: "domain", ResourceID: name})
			return err
		})
	}
	if err != nil {
		return store.Domain{}, fmt.Errorf("confirm domain %q of %q: %w", name, accountID, err)
	}
	return out, nil
}

// RemoveDomain gives up the team's claim of a domain, verified or not. Only
// the account owner may (with rbac.SettingsManage). It records a
// domain.removed event. It returns AddDomain's errors.
func (s *Service) RemoveDomain(ctx context.Context, actor, accountID, name string) error {
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID))
	if err == nil {
		name, err = ValidateDomain(name)
	}
	if err == nil {
		err = s.permitted(ctx, actor, accountID, rbac.SettingsManage, store.EventDomainRemoved, txn.Resource{Type: "domain", ID: name}, func(c *txn.Change) error {
			if err := s.mustOwn(ctx, c); err != nil {
				return err
			}
			if err := c.Tx.DeleteDomain(ctx, name, accountID); err != nil {
				return err
			}
			_, err := c.Record(store.Event{Action: store.EventDomainRemoved, ResourceType: "domain", ResourceID: name})
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("remove domain %q from %q by %q: %w", name, accountID, actor, err)
	}
	return nil
}

// Domains returns the team's domain claims, ordered by name, to members
// allowed rbac.SettingsManage. It returns an error wrapping
// store.ErrInvalid, store.ErrNotFound, rbac.ErrNotMember or rbac.ErrDenied.
func (s *Service) Domains(ctx context.Context, actor, accountID string) ([]store.Domain, error) {
	var out []store.Domain
	err := check.IDs(check.ID("actor", actor), check.ID("account ID", accountID))
	if err == nil {
		err = s.door.View(ctx, txn.Call{Actor: actor, Account: accountID, Need: txn.Permission, Action: rbac.SettingsManage}, func(c *txn.Change) error {
			var err error
			out, err = c.Tx.Domains(ctx, accountID)
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("domains of %q for %q: %w", accountID, actor, err)
	}
	return out, nil
}

// DomainMatch is what JoinByDomain found for a user: the team whose
// verified domain their address is at (zero if none), and whether they
// joined it (Member set) or are only suggested it.
type DomainMatch struct {
	Account store.Account
	Mode    store.DomainMode
	Joined  bool
	Member  store.Member
}

// JoinByDomain is for the host to call when the user signs in or signs up
// with an email address the host has verified: if a team has the address's
// domain verified, the user joins it with the domain's role (auto-join,
// recorded as member.joined with the domain) or is suggested it. A user who
// is a member already, or whose join the team's seat limit refuses, is
// suggested it instead; so is everyone when the domain's role is no longer
// one the team has. It returns the match (zero when no team has the domain),
// or an error wrapping store.ErrInvalid (a malformed ID, or an address
// without a registrable domain), store.ErrNotFound (no such user) or the
// store's errors.
func (s *Service) JoinByDomain(ctx context.Context, userID string) (DomainMatch, error) {
	var out DomainMatch
	fail := func(err error) (DomainMatch, error) {
		return DomainMatch{}, fmt.Errorf("%q joins by domain: %w", userID, err)
	}
	if err := check.IDs(check.ID("user ID", userID)); err != nil {
		return fail(err)
	}
	var name string
	find := func(ctx context.Context, tx store.Tx) (string, error) {
		u, err := tx.User(ctx, userID)
		if err != nil {
			return "", err
		}
		_, host, _ := strings.Cut(u.Email, "@")
		if name, err = ValidateDomain(host); errors.Is(err, ErrPublicDomain) {
			return "", nil
		} else if err != nil {
			return "", err
		}
		d, err := tx.VerifiedDomain(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return "", nil
		}
		return d.AccountID, err
	}
	_, err := s.door.Update(ctx, txn.Call{Actor: userID, Find: find, Need: txn.Anyone, AnySignIn: true}, func(c *txn.Change) error {
		out = DomainMatch{}
		if c.Account.ID == "" {
			return nil // no team has the domain
		}
		d, err := c.Tx.VerifiedDomain(ctx, name)
		if errors.Is(err, store.ErrNotFound) || err == nil && d.AccountID != c.Account.ID {
			return nil // unverified meanwhile
		} else if err != nil {
			return err
		}
		out = DomainMatch{Account: c.Account, Mode: d.Mode}
		if d.Mode != store.DomainAutoJoin || c.Actor.UserID != "" || c.Account.Kind != store.Team {
			return nil
		}
		if rights, err := c.RightsOf(rbac.Role(d.Role)); err != nil || !rights.Known() || rights.Top() && s.policy.TopByTransfer() {
			return nil // the role is gone: suggest only
		}
		if err := c.Seats(1, 0); errors.Is(err, store.ErrNoSeats) {
			return nil
		} else if err != nil {
			return err
		}
		m := store.Member{AccountID: c.Account.ID, UserID: userID, Role: d.Role, JoinedAt: c.Now()}
		if err := c.Tx.CreateMember(ctx, m); errors.Is(err, store.ErrExists) {
			return nil // a membership that ended but is not swept yet: suggest only
		} else if err != nil {
			return err
		}
		out.Joined, out.Member = true, m
		_, err = c.Record(store.Event{Action: store.EventMemberJoined, ResourceType: "member", ResourceID: userID,
			After: txn.EventValue(map[string]string{"role": d.Role, "domain": name})})
		return err
	})
	if err != nil {
		return fail(err)
	}
	return out, nil
}
