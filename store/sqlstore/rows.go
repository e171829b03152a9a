package sqlstore

import (
	"database/sql"
	"database/sql/driver"
	"time"

	"github.com/teamroster/roster/store"
)

// The row types below map roster's tables for reading through gorm. Column
// names are given explicitly so that an application's gorm NamingStrategy
// (New) cannot change them, and no field is called CreatedAt or UpdatedAt so
// that gorm never fills in times by itself.

type userRow struct {
	ID            string       `gorm:"column:id;primaryKey"`
	Email         string       `gorm:"column:email"`
	Name          string       `gorm:"column:name"`
	SignIn        string       `gorm:"column:sign_in"`
	ActiveAccount string       `gorm:"column:active_account"`
	Created       sql.NullTime `gorm:"column:created_at"`
}

func (userRow) TableName() string { return "roster_users" }

func (r userRow) user() store.User {
	return store.User{
		ID:            r.ID,
		Email:         r.Email,
		Name:          r.Name,
		SignIn:        store.SignIn(r.SignIn),
		ActiveAccount: r.ActiveAccount,
		CreatedAt:     fromDB(r.Created),
	}
}

type accountRow struct {
	ID      string       `gorm:"column:id;primaryKey"`
	Kind    string       `gorm:"column:kind"`
	Name    string       `gorm:"column:name"`
	Owner   string       `gorm:"column:owner"`
	Secure  bool         `gorm:"column:require_secure"`
	Seats   int64        `gorm:"column:seat_limit"`
	Created sql.NullTime `gorm:"column:created_at"`
	Updated sql.NullTime `gorm:"column:updated_at"`
}

func (accountRow) TableName() string { return "roster_accounts" }

func (r accountRow) account() store.Account {
	return store.Account{
		ID:                  r.ID,
		Kind:                store.AccountKind(r.Kind),
		Name:                r.Name,
		Owner:               r.Owner,
		RequireSecureSignIn: r.Secure,
		SeatLimit:           int(r.Seats),
		CreatedAt:           fromDB(r.Created),
		UpdatedAt:           fromDB(r.Updated),
	}
}

// accountColumns lists the columns of roster_accounts in the order of
// accountRow.dest.
const accountColumns = "id, kind, name, owner, require_secure, seat_limit, created_at, updated_at"

// dest returns the fields of r in the order of accountColumns, for Scan.
func (r *accountRow) dest() []any {
	return []any{&r.ID, &r.Kind, &r.Name, &r.Owner, &r.Secure, &r.Seats, &r.Created, &r.Updated}
}

type memberRow struct {
	AccountID    string       `gorm:"column:account_id;primaryKey"`
	UserID       string       `gorm:"column:user_id;primaryKey"`
	Role         string       `gorm:"column:role"`
	Joined       sql.NullTime `gorm:"column:joined_at"`
	Until        sql.NullTime `gorm:"column:until"`
	FallbackRole string       `gorm:"column:fallback_role"`
	Suspended    sql.NullTime `gorm:"column:suspended_at"`
	SuspendedBy  string       `gorm:"column:suspended_by"`
}

func (memberRow) TableName() string { return "roster_members" }

// dest returns the fields of r in the order of memberColumns, for Scan.
func (r *memberRow) dest() []any {
	return []any{&r.AccountID, &r.UserID, &r.Role, &r.Joined, &r.Until, &r.FallbackRole, &r.Suspended, &r.SuspendedBy}
}

func (r memberRow) member() store.Member {
	return store.Member{
		AccountID:    r.AccountID,
		UserID:       r.UserID,
		Role:         r.Role,
		JoinedAt:     fromDB(r.Joined),
		Until:        fromDB(r.Until),
		FallbackRole: r.FallbackRole,
		SuspendedAt:  fromDB(r.Suspended),
		SuspendedBy:  r.SuspendedBy,
	}
}

type inviteRow struct {
	ID            string       `gorm:"column:id;primaryKey"`
	AccountID     string       `gorm:"column:account_id"`
	Kind          string       `gorm:"column:kind"`
	Role          string       `gorm:"column:role"`
	Email         string       `gorm:"column:email"`
	RequireSecure bool         `gorm:"column:require_secure"`
	TokenHash     []byte       `gorm:"column:token_hash"`
	Status        string       `gorm:"column:status"`
	MaxUses       int64        `gorm:"column:max_uses"`
	Uses          int64        `gorm:"column:uses"`
	CreatedBy     string       `gorm:"column:created_by"`
	Created       sql.NullTime `gorm:"column:created_at"`
	Expires       sql.NullTime `gorm:"column:expires_at"`
	Updated       sql.NullTime `gorm:"column:updated_at"`
	SupersededBy  string       `gorm:"column:superseded_by"`
	ResentBy      string       `gorm:"column:resent_by"`
	Resent        sql.NullTime `gorm:"column:resent_at"`
}

func (inviteRow) TableName() string { return "roster_invites" }

func (r inviteRow) invite() store.Invite {
	return store.Invite{
		ID:            r.ID,
		AccountID:     r.AccountID,
		Kind:          store.InviteKind(r.Kind),
		Role:          r.Role,
		Email:         r.Email,
		RequireSecure: r.RequireSecure,
		TokenHash:     fromBlob(r.TokenHash),
		Status:        store.InviteStatus(r.Status),
		MaxUses:       int(r.MaxUses),
		Uses:          int(r.Uses),
		CreatedBy:     r.CreatedBy,
		CreatedAt:     fromDB(r.Created),
		ExpiresAt:     fromDB(r.Expires),
		UpdatedAt:     fromDB(r.Updated),
		SupersededBy:  r.SupersededBy,
		ResentBy:      r.ResentBy,
		ResentAt:      fromDB(r.Resent),
	}
}

type inviteUseRow struct {
	InviteID string       `gorm:"column:invite_id;primaryKey"`
	UserID   string       `gorm:"column:user_id;primaryKey"`
	Used     sql.NullTime `gorm:"column:used_at"`
}

func (inviteUseRow) TableName() string { return "roster_invite_uses" }

func (r inviteUseRow) inviteUse() store.InviteUse {
	return store.InviteUse{InviteID: r.InviteID, UserID: r.UserID, UsedAt: fromDB(r.Used)}
}

type transferRow struct {
	ID          string       `gorm:"column:id;primaryKey"`
	AccountID   string       `gorm:"column:account_id"`
	Kind        string       `gorm:"column:kind"`
	From        string       `gorm:"column:from_user"`
	To          string       `gorm:"column:to_user"`
	Status      string       `gorm:"column:status"`
	ConfirmHash []byte       `gorm:"column:confirm_hash"`
	AcceptHash  []byte       `gorm:"column:accept_hash"`
	Created     sql.NullTime `gorm:"column:created_at"`
	Expires     sql.NullTime `gorm:"column:expires_at"`
	Updated     sql.NullTime `gorm:"column:updated_at"`
}

func (transferRow) TableName() string { return "roster_transfers" }

func (r transferRow) transfer() store.Transfer {
	return store.Transfer{
		ID:          r.ID,
		AccountID:   r.AccountID,
		Kind:        store.TransferKind(r.Kind),
		From:        r.From,
		To:          r.To,
		Status:      store.TransferStatus(r.Status),
		ConfirmHash: fromBlob(r.ConfirmHash),
		AcceptHash:  fromBlob(r.AcceptHash),
		CreatedAt:   fromDB(r.Created),
		ExpiresAt:   fromDB(r.Expires),
		UpdatedAt:   fromDB(r.Updated),
	}
}

type eventRow struct {
	ID           int64        `gorm:"column:id;primaryKey"`
	AccountID    string       `gorm:"column:account_id"`
	Time         sql.NullTime `gorm:"column:occurred_at"`
	Actor        string       `gorm:"column:actor"`
	Action       string       `gorm:"column:action"`
	ResourceType string       `gorm:"column:resource_type"`
	ResourceID   string       `gorm:"column:resource_id"`
	Result       string       `gorm:"column:result"`
	Reason       string       `gorm:"column:reason"`
	Before       string       `gorm:"column:before_value"`
	After        string       `gorm:"column:after_value"`
	IP           string       `gorm:"column:ip"`
	UserAgent    string       `gorm:"column:user_agent"`
	RequestID    string       `gorm:"column:request_id"`
	PrevHash     []byte       `gorm:"column:prev_hash"`
	Hash         []byte       `gorm:"column:hash"`
	Salt         []byte       `gorm:"column:salt"`
	Commitment   []byte       `gorm:"column:commitment"`
}

func (eventRow) TableName() string { return "roster_events" }

func (r eventRow) event() store.Event {
	return store.Event{
		ID:           r.ID,
		AccountID:    r.AccountID,
		Time:         fromDB(r.Time),
		Actor:        r.Actor,
		Action:       store.EventAction(r.Action),
		ResourceType: r.ResourceType,
		ResourceID:   r.ResourceID,
		Result:       store.Result(r.Result),
		Reason:       r.Reason,
		Before:       r.Before,
		After:        r.After,
		IP:           r.IP,
		UserAgent:    r.UserAgent,
		RequestID:    r.RequestID,
		PrevHash:     fromBlob(r.PrevHash),
		Hash:         fromBlob(r.Hash),
		Salt:         fromBlob(r.Salt),
		Commitment:   fromBlob(r.Commitment),
	}
}

// eventColumns lists the columns of roster_events in the order scan reads
// them.
const eventColumns = `id, account_id, occurred_at, actor, action, resource_type, resource_id,
	result, reason, before_value, after_value, ip, user_agent, request_id, prev_hash, hash, salt, commitment`

// scanEvent reads one row selected with eventColumns, followed by the
// columns scanned into more, if any.
func scanEvent(rows *sql.Rows, more ...any) (store.Event, error) {
	var r eventRow
	err := rows.Scan(append([]any{&r.ID, &r.AccountID, &r.Time, &r.Actor, &r.Action, &r.ResourceType, &r.ResourceID,
		&r.Result, &r.Reason, &r.Before, &r.After, &r.IP, &r.UserAgent, &r.RequestID, &r.PrevHash, &r.Hash,
		&r.Salt, &r.Commitment}, more...)...)
	return r.event(), err
}

type chainHeadRow struct {
	AccountID  string       `gorm:"column:account_id;primaryKey"`
	LastID     int64        `gorm:"column:last_id"`
	LastHash   []byte       `gorm:"column:last_hash"`
	LastTime   sql.NullTime `gorm:"column:last_time"`
	AnchorID   int64        `gorm:"column:anchor_id"`
	AnchorHash []byte       `gorm:"column:anchor_hash"`
}

func (chainHeadRow) TableName() string { return "roster_chain_heads" }

func (r chainHeadRow) head() store.ChainHead {
	return store.ChainHead{
		AccountID:  r.AccountID,
		LastID:     r.LastID,
		LastHash:   fromBlob(r.LastHash),
		LastTime:   fromDB(r.LastTime),
		AnchorID:   r.AnchorID,
		AnchorHash: fromBlob(r.AnchorHash),
	}
}

type changeRow struct {
	Revision  int64        `gorm:"column:revision;primaryKey"`
	Seq       int64        `gorm:"column:seq;primaryKey"`
	Op        int64        `gorm:"column:op"`
	AccountID string       `gorm:"column:account_id"`
	UserID    string       `gorm:"column:user_id"`
	Role      string       `gorm:"column:role"`
	Actions   string       `gorm:"column:actions"`
	Secure    bool         `gorm:"column:require_secure"`
	SignIn    string       `gorm:"column:sign_in"`
	KeyID     string       `gorm:"column:key_id"`
	KeyHash   []byte       `gorm:"column:key_hash"`
	Expires   sql.NullTime `gorm:"column:expires_at"`
	Narrowed  bool         `gorm:"column:narrowed"`
	Fallback  string       `gorm:"column:fallback_role"`
	Suspended bool         `gorm:"column:suspended"`
}

func (changeRow) TableName() string { return "roster_changes" }

func (r changeRow) change() store.Change {
	c := store.Change{
		Revision:      store.Revision(r.Revision),
		Op:            store.ChangeOp(r.Op),
		AccountID:     r.AccountID,
		UserID:        r.UserID,
		Role:          r.Role,
		Actions:       splitActions(r.Actions),
		RequireSecure: r.Secure,
		SignIn:        store.SignIn(r.SignIn),
		Key:           r.KeyID,
		KeyHash:       fromBlob(r.KeyHash),
		ExpiresAt:     fromDB(r.Expires),
		FallbackRole:  r.Fallback,
		Suspended:     r.Suspended,
	}
	if r.Narrowed {
		c.Actions = fromKeyActions(sql.NullString{String: r.Actions, Valid: true})
	}
	return c
}

// apiKeyRow is a row of roster_api_keys.
type apiKeyRow struct {
	ID         string         `gorm:"column:id;primaryKey"`
	AccountID  string         `gorm:"column:account_id"`
	UserID     string         `gorm:"column:user_id"`
	Name       string         `gorm:"column:name"`
	Role       string         `gorm:"column:role"`
	Actions    sql.NullString `gorm:"column:actions"`
	Hash       []byte         `gorm:"column:hash"`
	CreatedBy  string         `gorm:"column:created_by"`
	Created    sql.NullTime   `gorm:"column:created_at"`
	Expires    sql.NullTime   `gorm:"column:expires_at"`
	Revoked    sql.NullTime   `gorm:"column:revoked_at"`
	RevokedBy  string         `gorm:"column:revoked_by"`
	LastUsed   sql.NullTime   `gorm:"column:last_used_at"`
	LastUsedIP string         `gorm:"column:last_used_ip"`
}

func (apiKeyRow) TableName() string { return "roster_api_keys" }

func (r apiKeyRow) apiKey() store.APIKey {
	return store.APIKey{
		ID:         r.ID,
		AccountID:  r.AccountID,
		UserID:     r.UserID,
		Name:       r.Name,
		Role:       r.Role,
		Actions:    fromKeyActions(r.Actions),
		Hash:       fromBlob(r.Hash),
		CreatedBy:  r.CreatedBy,
		CreatedAt:  fromDB(r.Created),
		ExpiresAt:  fromDB(r.Expires),
		RevokedAt:  fromDB(r.Revoked),
		RevokedBy:  r.RevokedBy,
		LastUsedAt: fromDB(r.LastUsed),
		LastUsedIP: r.LastUsedIP,
	}
}

// normTime is how the store keeps a time: in UTC, truncated to microseconds
// (PostgreSQL's precision, applied on SQLite too so both return the same).
func normTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// toDB is the value written for t: NULL for the zero time.
func toDB(t time.Time) sql.NullTime {
	if t.IsZero() {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: normTime(t), Valid: true}
}

// fromDB is the time read from a column written by toDB.
func fromDB(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return normTime(t.Time)
}

// blob wraps a byte slice passed to gorm's Exec or Raw so that gorm binds it
// as one value instead of expanding it as a list; an empty blob is NULL.
type blob []byte

// Value implements driver.Valuer.
func (b blob) Value() (driver.Value, error) {
	if len(b) == 0 {
		return nil, nil
	}
	return []byte(b), nil
}

// fromBlob returns b, or nil for an empty or NULL column, so that a nil slice
// round-trips as nil on both backends.
func fromBlob(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// teamRoleRow is a row of roster_team_roles; the actions live in the Casbin
// rule table.
type teamRoleRow struct {
	AccountID string       `gorm:"column:account_id;primaryKey"`
	Name      string       `gorm:"column:name;primaryKey"`
	CreatedBy string       `gorm:"column:created_by"`
	CreatedAt sql.NullTime `gorm:"column:created_at"`
	UpdatedAt sql.NullTime `gorm:"column:updated_at"`
}

func (teamRoleRow) TableName() string { return "roster_team_roles" }

func (r teamRoleRow) role() store.TeamRole {
	return store.TeamRole{AccountID: r.AccountID, Name: r.Name, CreatedBy: r.CreatedBy,
		CreatedAt: fromDB(r.CreatedAt), UpdatedAt: fromDB(r.UpdatedAt)}
}
