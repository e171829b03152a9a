// The team console: a page over roster's team API (package teamapi), mounted under /api/
// (its routes and answers are in its OpenAPI document, GET /api/openapi.json).
"use strict";

const $ = (sel) => document.querySelector(sel);
let me = null;      // GET /api/me
let active = null;  // the active account's entry of me.accounts
let roles = null;   // GET /api/teams/{team}/roles of the active team
let auditNext = ""; // cursor of the next audit page

// api calls the JSON API and returns the decoded body; it throws the
// problem report's detail on an error status.
async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status === 204) return null;
  const type = res.headers.get("Content-Type") || "";
  if (!type.includes("json")) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  const data = await res.json();
  if (!res.ok) {
    const err = new Error(data.detail || data.title);
    err.status = res.status;
    throw err;
  }
  return data;
}

function say(text, isError) {
  const s = $("#status");
  s.textContent = text;
  s.className = isError ? "error" : "";
}

// act runs an action, reloads the page's data and then says what happened
// (done, or done(result) if it is a function), so that the message appears
// once the page shows the result.
async function act(fn, done) {
  let msg, failed = false;
  try {
    const result = await fn();
    msg = typeof done === "function" ? done(result) : done;
  } catch (e) {
    msg = e.message;
    failed = true;
  }
  try {
    await load();
  } catch (e) {
    msg = e.message;
    failed = true;
  }
  say(msg, failed);
}

// el makes an element with the properties props and the children (nodes or
// text).
function el(tag, props = {}, ...children) {
  const { dataset, ...rest } = props;
  const e = Object.assign(document.createElement(tag), rest);
  Object.assign(e.dataset, dataset);
  e.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return e;
}

function cell(tr, text, cls) {
  const td = tr.insertCell();
  td.textContent = text ?? "";
  if (cls) td.className = cls;
  return td;
}

function button(label, cls, onclick) {
  return el("button", { type: "button", textContent: label, className: cls, onclick });
}

const badge = (text, cls) => el("span", { className: `badge ${cls}`, textContent: text });

// answer settles the question the confirmation dialog asks: the resolve
// function of ask's promise while it is open. The dialog's form settles it
// as a button submits it, Escape as it cancels, both before it closes, so
// that a close event still queued from an earlier question answers none.
let answer = null;
function settle(ok) {
  const resolve = answer;
  answer = null;
  resolve?.(ok);
}
$("#confirm form").addEventListener("submit", (ev) => settle(ev.submitter?.value === "ok"));
$("#confirm").addEventListener("cancel", () => settle(false));

// ask shows the confirmation dialog and resolves to whether the user chose
// ok. body is a list of nodes or strings; Cancel has the focus.
function ask(title, body, ok) {
  settle(false);
  const d = $("#confirm");
  $("#confirm-title").textContent = title;
  $("#confirm-body").replaceChildren(...body.map((b) => (typeof b === "string" ? el("p", { textContent: b }) : b)));
  $("#confirm-ok").textContent = ok;
  const question = new Promise((resolve) => (answer = resolve));
  d.showModal();
  $("#confirm-cancel").focus();
  return question;
}

// confirmThen asks, and acts if the user confirms.
async function confirmThen(title, body, ok, fn, done) {
  if (await ask(title, body, ok)) await act(fn, done);
}

// The words for the actions of the two presets; an action of another
// policy shows as its name.
const actionWords = {
  "account.access": "access the team account",
  "pods.connect": "connect to existing Pods",
  "pods.manage": "create, delete, start and stop Pods",
  "endpoints.manage": "create and delete Serverless endpoints",
  "endpoints.invoke": "send requests to Serverless endpoints",
  "billing.read": "view billing information",
  "billing.manage": "manage payment methods and the plan",
  "billing.read_limited": "see limited billing information",
  "resources.read": "see shared resources",
  "resources.create": "create shared resources",
  "resources.update": "modify shared resources",
  "resources.delete": "delete shared resources",
  "settings.read": "see team settings",
  "settings.manage": "manage team settings",
  "members.invite": "invite members",
  "members.manage": "manage members and their roles",
  "audit.read": "read the audit log",
};
const words = (a) => actionWords[a] || a;
const roleLabel = (r) => String(r).replaceAll("_", " ");
const sentence = (list) => (list.length ? list.map(words).join(", ") : "nothing");

// roleInfo is the description of role r in the active team.
const roleInfo = (r) => roles?.roles.find((x) => x.name === r);
const mine = () => me.can[active.account.id] || [];
// covers says whether the user's role holds every action of role r, so
// that they may grant it and act on its holders.
const covers = (r) => {
  const info = roleInfo(r);
  return !!info && info.actions.every((a) => mine().includes(a));
};
// grantable lists the roles the user may give by a role change or an
// invitation: those their role covers, but the top role where it goes only
// by transfer.
const grantable = () => (roles?.roles || []).filter((r) => covers(r.name) && !(roles.top_by_transfer && r.top));
const describe = (r) => {
  const info = roleInfo(r);
  if (!info) return "";
  return info.top ? "may do everything" : `may ${sentence(info.actions)}`;
};

function roleOptions(select, list, value) {
  select.replaceChildren(...list.map((r) => {
    const o = new Option(roleLabel(r.name), r.name, false, r.name === value);
    o.title = describe(r.name);
    return o;
  }));
  return select;
}

const can = (action) => mine().includes(action);
const when = (t) => new Date(t).toLocaleString();
const day = (t) => new Date(t).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
const inviteToken = () => (location.pathname.match(/^\/invites\/([^/]+)$/) || [])[1];
const transferLink = () => {
  const m = location.pathname.match(/^\/transfers\/([^/]+)$/);
  const tok = new URLSearchParams(location.search).get("token");
  return m && tok ? { id: decodeURIComponent(m[1]), token: tok } : null;
};
const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

async function load() {
  try {
    me = await api("GET", "/api/me");
  } catch (e) {
    if (e.status !== 401) return say(e.message, true);
    me = null;
  }
  for (const id of ["#signin-panel", "#join-panel", "#transfer-panel", "#blocked-panel", "#personal-panel", "#create-panel",
    "#team-panel", "#audit-panel", "#outbox-panel", "#selector", "#signout"]) {
    $(id).hidden = true;
  }
  if (!me) {
    $("#whoami").textContent = "";
    $("#signin-panel").hidden = false;
    return;
  }
  $("#whoami").textContent = `${me.user.name} (${me.user.id})`;
  $("#signout").hidden = false;
  $("#selector").hidden = false;
  $("#create-panel").hidden = false;
  active = me.accounts.find((a) => a.active);
  const blocked = (a) => (a.suspended ? ", suspended" : a.needs_secure_sign_in ? ", needs secure sign-in" : "");
  $("#account").replaceChildren(...me.accounts.map((a) =>
    new Option(a.account.kind === "team" ? `${a.account.name} (team, ${a.role}${blocked(a)})` : "Personal", a.account.id, false, !!a.active)));

  const tok = inviteToken();
  if (tok) await showInvite(tok);
  const tr = transferLink();
  if (tr) await showTransfer(tr.id, tr.token);
  if (active.account.kind === "personal") {
    roles = null;
    $("#personal-panel").hidden = !can("settings.manage");
  } else if (active.suspended || active.needs_secure_sign_in) {
    // A suspended member, or one whose sign-in the team does not accept,
    // may do nothing there: say why.
    $("#blocked-panel").hidden = false;
    $("#blocked-title").textContent = active.account.name;
    $("#blocked-text").textContent = active.suspended
      ? "You are suspended in this team: you keep your role and your seat, and can do nothing here until its owner or an admin reinstates you."
      : "This team requires a secure sign-in method: turn on two-factor authentication, or sign in with Google or GitHub, to use it again.";
  } else {
    await showTeam();
  }
  if (can("audit.read")) {
    $("#audit-panel").hidden = false;
    await loadAudit(false);
  }
  await showOutbox();
}

// showOutbox lists the demo mail of the user, newest first.
async function showOutbox() {
  const mail = await api("GET", "/api/demo/outbox");
  const kinds = { invite: "Invitation", "transfer.confirm": "Confirm an ownership change", "transfer.accept": "Accept an ownership change" };
  $("#outbox-panel").hidden = mail.length === 0;
  $("#outbox").replaceChildren(...mail.map((m) => el("li", { className: "mail", dataset: { kind: m.kind } },
    el("b", { textContent: `${kinds[m.kind] || m.kind}: ` }), `${m.text} `,
    el("a", { href: m.link, textContent: "Open the link" }), el("span", { className: "note", textContent: ` (${when(m.sent)})` }))));
}

async function showInvite(tok) {
  $("#join-panel").hidden = false;
  $("#join-note").hidden = true;
  try {
    const p = await api("GET", `/api/invites/${tok}`);
    $("#join-text").textContent = `${p.inviter_name} invites you to join ${p.team} as ${roleLabel(p.role)}.`;
    if (p.require_secure) {
      $("#join-note").hidden = false;
      $("#join-note").textContent = `Only a member who signs in with a secure method (email with 2FA, Google or GitHub) may accept. You sign in with ${me.user.sign_in}.`;
    }
    $("#join").hidden = false;
    $("#join").onclick = () => act(async () => {
      const m = await api("POST", `/api/invites/${tok}/accept`);
      history.replaceState(null, "", "/");
      return m;
    }, `Joined ${p.team} as ${roleLabel(p.role)}. Switch to it with the account selector.`);
  } catch (e) {
    $("#join-text").textContent = `This invitation cannot be used: ${e.message}`;
    $("#join").hidden = true;
  }
}

// findTransfer looks for the transfer id among the open transfers of the
// teams where the user manages members: those of its sender. Its recipient
// may not list them, and so does not find it.
async function findTransfer(id) {
  for (const a of me.accounts) {
    if (!(me.can[a.account.id] || []).includes("members.manage") || a.account.kind !== "team") continue;
    try {
      const p = await api("GET", `/api/teams/${a.account.id}/transfers?limit=1000`);
      const t = p.items.find((x) => x.id === id);
      if (t) return { ...t, team: a.account.name };
    } catch {
      // another team's list is not this page's concern
    }
  }
  return null;
}

// showTransfer is the page of a transfer's link, /transfers/{id}?token=:
// its sender confirms it, then its recipient accepts it.
async function showTransfer(id, tok) {
  $("#transfer-panel").hidden = false;
  const t = await findTransfer(id);
  const done = () => history.replaceState(null, "", "/");
  const what = (t) => (t.kind === "account" ? "takes over the account of" : `becomes ${roleLabel(me.top)} of`);
  $("#transfer-confirm").hidden = $("#transfer-accept").hidden = true;
  if (t && t.status === "awaiting_confirm" && t.from === me.user.id) {
    $("#transfer-text").textContent = `Confirm that ${t.to} ${what(t)} ${t.team}. Then ${t.to} accepts through the link emailed to them.`;
    $("#transfer-confirm").hidden = false;
    $("#transfer-confirm").onclick = () => act(async () => {
      await api("POST", `/api/transfers/${encodeURIComponent(id)}/confirm`, { token: tok });
      done();
    }, `Confirmed: ${t.to} can now accept through the link emailed to them.`);
  } else if (t && t.to !== me.user.id) {
    const status = { awaiting_accept: `waiting for ${t.to} to accept`, done: "done", cancelled: "cancelled" }[t.status] || t.status;
    $("#transfer-text").textContent = `This ownership change of ${t.team} is ${status}.`;
  } else {
    $("#transfer-text").textContent = t
      ? `${t.from} offers that you ${what(t).replace("becomes", "become").replace("takes", "take")} ${t.team}.`
      : `A member of a team offers you its top role or its account. Accept to take it.`;
    $("#transfer-accept").hidden = false;
    $("#transfer-accept").onclick = () => act(async () => {
      const r = await api("POST", `/api/transfers/${encodeURIComponent(id)}/accept`, { token: tok });
      done();
      return r;
    }, (r) => {
      const team = me.accounts.find((a) => a.account.id === r.account_id)?.account.name || "the team";
      return r.kind === "account" ? `Accepted: the account of ${team} is yours.` : `Accepted: you are now ${roleLabel(me.top)} of ${team}.`;
    });
  }
}

async function showTeam() {
  const id = active.account.id;
  const acct = active.account;
  const [rs, seats] = await Promise.all([api("GET", `/api/teams/${id}/roles`), api("GET", `/api/teams/${id}/seats`)]);
  roles = rs;
  $("#team-panel").hidden = false;
  $("#team-name").textContent = acct.name;
  $("#my-role").textContent = active.role;
  $("#my-role").title = describe(active.role);
  const isOwner = acct.owner === me.user.id;
  const manage = can("members.manage");

  showSeats(seats);
  $("#secure-state").textContent = acct.require_secure_sign_in ? "Required" : "Not required";
  $("#secure-status").hidden = !acct.require_secure_sign_in;
  $("#secure-mine").textContent = `You sign in with ${me.user.sign_in}.`;
  $("#security-panel").hidden = !can("settings.manage");
  $("#require-secure").checked = !!acct.require_secure_sign_in;
  $("#secure-preview").replaceChildren();
  $("#domains-panel").hidden = !can("settings.manage");
  if (can("settings.manage")) await showDomains(id, isOwner);

  $("#roles tbody").replaceChildren(...roles.roles.map((r) => el("tr", { dataset: { role: r.name } },
    el("td", {}, roleLabel(r.name), r.top ? " " : null, r.top ? badge("top", "owner") : null, r.team ? " " : null, r.team ? badge("team role", "you") : null),
    el("td", { textContent: r.top ? `everything: ${sentence(r.actions)}` : sentence(r.actions) }))));

  let showSignIn = false;
  const joined = [];
  await fill("#members", `/api/teams/${id}/members`, (rows) => {
    showSignIn ||= rows.some((r) => r.sign_in);
    document.querySelectorAll(".signin-col").forEach((th) => (th.hidden = !showSignIn));
    joined.push(...rows.filter((r) => r.status === "joined"));
  }, (r) => memberRow(r, showSignIn, manage));
  const owner = joined.find((r) => r.owner);
  $("#owner-line").textContent = isOwner ? "You own this account." : owner ? `Account owner: ${owner.name}` : "";

  $("#invite-panel").hidden = !can("members.invite");
  if (can("members.invite")) {
    const sel = $("#invite select.roles");
    const list = grantable();
    const chosen = list.some((r) => r.name === sel.value) ? sel.value :
      (list.find((r) => r.name === "basic" || r.name === "member") || list[list.length - 1])?.name;
    roleOptions(sel, list, chosen);
    showRoleHint();
    await fill("#invites", `/api/teams/${id}/invites?status=pending`, () => {}, (inv) => {
      const tr = el("tr", { dataset: { invite: inv.id } });
      cell(tr, inv.kind);
      cell(tr, inv.email);
      cell(tr, inv.role);
      cell(tr, inv.created_by);
      cell(tr, inv.expires_at ? when(inv.expires_at) : "never");
      cell(tr, "", "actions").append(
        button("Copy link", "copy-invite", () => act(async () => copyLink(await api("POST", `/api/teams/${id}/invites/${inv.id}/link`)),
          "Link copied")),
        button("Resend", "resend", () => act(async () => showLink(await api("POST", `/api/teams/${id}/invites/${inv.id}/resend`)),
          "Invite resent: the old link no longer works")),
        button("Revoke", "revoke", () => act(() => api("DELETE", `/api/teams/${id}/invites/${inv.id}`), "Invite revoked")));
      return tr;
    });
  }

  $("#transfers-panel").hidden = !manage;
  if (manage) {
    await fill("#transfers", `/api/teams/${id}/transfers`, () => {}, (t) => {
      const tr = el("tr", { dataset: { transfer: t.id, status: t.status } });
      cell(tr, t.to);
      cell(tr, t.kind === "account" ? "takes over the account" : `becomes ${roleLabel(roles.top)}`);
      cell(tr, { awaiting_confirm: `waiting for ${t.from} to confirm`, awaiting_accept: `waiting for ${t.to} to accept` }[t.status] || t.status, "status");
      cell(tr, t.from);
      cell(tr, t.status.startsWith("awaiting") ? when(t.expires_at) : "");
      const actions = cell(tr, "", "actions");
      if (t.status.startsWith("awaiting")) {
        actions.append(button("Cancel", "cancel-transfer", () => act(
          () => api("DELETE", `/api/teams/${id}/transfers/${encodeURIComponent(t.id)}`), "Ownership change cancelled")));
      }
      return tr;
    });
  }

  $("#handover").hidden = !isOwner;
  if (isOwner) {
    const others = joined.filter((r) => r.user_id !== me.user.id);
    $("#handover-to").replaceChildren(...others.map((r) => new Option(`${r.name} (${r.user_id})`, r.user_id)));
    $("#handover").hidden = others.length === 0;
  }
  $("#leave").hidden = isOwner;
  $("#delete-team").hidden = !isOwner;
  await showKeys(id);
}

// showSeats shows how the team's seats stand, and the demo plan to those
// who may manage billing.
function showSeats(s) {
  const used = s.members + s.pending;
  const meter = $("#seats-meter");
  meter.hidden = !s.limit;
  if (s.limit) {
    $("#seats").textContent = `${used} of ${s.limit} used · ${s.free} free`;
    meter.max = s.limit;
    meter.value = Math.min(used, s.limit);
    meter.high = s.limit - 0.5;
  } else {
    $("#seats").textContent = `${used} used · no limit`;
  }
  const parts = `${plural(s.members, "member", "members")}, ${plural(s.pending, "pending invitation", "pending invitations")}.`;
  $("#seats-note").textContent = s.limit && s.free === 0 ? `${parts} The team is full: invitations and joins wait for a free seat.` : parts;
  $("#plan").hidden = !can("billing.manage");
  $("#plan-seats").value = s.limit || 0;
}

// memberRow is the members table's row of r: badges for the owner, the
// user, a suspended member and a pending invite; the role with its end;
// and, for those who manage members, the actions on a member their role
// covers.
function memberRow(r, showSignIn, manage) {
  const id = active.account.id;
  const tr = el("tr", { dataset: { user: r.user_id ?? "" } });
  const who = r.name || r.email || "";
  cell(tr, r.name || "(invited)").append(
    ...(r.owner ? [" ", badge("account owner", "owner")] : []),
    ...(r.user_id === me.user.id ? [" ", badge("you", "you")] : []));
  cell(tr, r.email);
  const roleCell = tr.insertCell();
  roleCell.append(el("span", { className: "role", textContent: r.role, title: describe(r.role) }));
  if (r.fallback_role) roleCell.append(el("span", { className: "sub until", textContent: `until ${when(r.until)}, then ${r.fallback_role}` }));
  else if (r.until) roleCell.append(el("span", { className: "sub until", textContent: `access ends ${when(r.until)}` }));
  else if (r.status === "pending" && r.expires_at) roleCell.append(el("span", { className: "sub", textContent: `invitation expires ${day(r.expires_at)}` }));
  const status = tr.insertCell();
  status.className = "status";
  status.append(r.status === "pending" ? badge("invited", "pending") : r.suspended ? badge("suspended", "suspended") : "joined");
  if (showSignIn) cell(tr, r.sign_in, "signin");
  const actions = cell(tr, "", "actions");
  if (!manage || r.status !== "joined" || r.user_id === me.user.id || r.owner || !covers(r.role)) return tr;

  const user = encodeURIComponent(r.user_id);
  const choices = grantable();
  if (!choices.some((x) => x.name === r.role)) choices.unshift(roleInfo(r.role)); // shown as it is, though not given this way
  const sel = roleOptions(el("select", { className: "new-role" }), choices, r.role);
  const preview = el("span", { className: "role-preview", ariaLive: "polite" });
  sel.onchange = async () => {
    if (sel.value === r.role) return preview.replaceChildren();
    try {
      const p = await api("GET", `/api/teams/${id}/members/${user}/role-preview?role=${encodeURIComponent(sel.value)}`);
      preview.replaceChildren(
        el("span", { className: "gain", textContent: `Gains: ${sentence(p.gained)}.` }), " ",
        el("span", { className: "lose", textContent: `Loses: ${sentence(p.lost)}.` }));
    } catch (e) {
      preview.textContent = e.message;
    }
  };
  actions.append(
    el("label", {}, el("span", { className: "sr-only", textContent: `New role for ${who}` }), sel),
    button("Change role", "change-role", () => act(
      () => api("PATCH", `/api/teams/${id}/members/${user}`, { role: sel.value }),
      `Changed ${r.user_id}'s role to ${sel.value}`)),
    r.suspended
      ? button("Reinstate", "reinstate", () => act(() => api("POST", `/api/teams/${id}/members/${user}/reinstate`),
        `Reinstated ${r.user_id}: they act as ${r.role} again`))
      : button("Suspend", "suspend", () => act(() => api("POST", `/api/teams/${id}/members/${user}/suspend`),
        `Suspended ${r.user_id}: they keep their role and seat and can do nothing until reinstated`)));
  if (roles.top_by_transfer && !roleInfo(r.role)?.top && roleInfo(active.role)?.top) {
    const top = roleLabel(roles.top);
    actions.append(button(`Make ${top}…`, "make-top", () => confirmThen(`Make ${who} ${top}?`, [
      `${who} will be able to do everything in ${active.account.name}: ${sentence(roleInfo(roles.top).actions)}.`,
      `You confirm through the link emailed to you; then ${who} accepts through the link emailed to them.`,
    ], "Start", () => api("POST", `/api/teams/${id}/transfers`, { to: r.user_id, kind: "role" }),
    `Ownership change started: confirm it through the link emailed to you`)));
  }
  actions.append(button("Remove…", "remove", () => confirmThen(`Remove ${who}?`, [
    `${who} loses access to ${active.account.name} at once, with their API keys. To come back they need a new invitation.`,
  ], "Remove", () => api("DELETE", `/api/teams/${id}/members/${user}`), `Removed ${r.user_id}`)), preview);
  return tr;
}

function showRoleHint() {
  const r = $("#invite select.roles").value;
  $("#invite-role-hint").textContent = r ? `${roleLabel(r)} ${describe(r)}.` : "";
}

// showDomains shows the team's email domains to those who manage its
// settings: each claim with what it does, and whether it is verified or the
// TXT record to publish in the domain's DNS; the account owner claims and
// removes them. Confirming a claim is the host's call once its DNS lookup
// finds the record: the demo's button stands in for that check.
async function showDomains(id, isOwner) {
  $("#domain-add").hidden = !isOwner;
  $("#domains-owner-note").hidden = isOwner;
  if (isOwner) {
    const sel = $("#domain-role");
    const list = grantable();
    const chosen = list.some((r) => r.name === sel.value) ? sel.value :
      (list.find((r) => r.name === "basic" || r.name === "member") || list[list.length - 1])?.name;
    roleOptions(sel, list, chosen);
  }
  const claims = await api("GET", `/api/teams/${id}/domains`);
  $("#domains").hidden = claims.length === 0;
  $("#domains-none").hidden = claims.length > 0;
  $("#domains tbody").replaceChildren(...claims.map((d) => {
    const tr = el("tr", { dataset: { domain: d.name } });
    const path = `/teams/${id}/domains/${encodeURIComponent(d.name)}`;
    cell(tr, d.name, "name");
    cell(tr, d.mode === "auto_join" ? "joins the team" : "is shown the team", "mode");
    cell(tr, roleLabel(d.role), "role");
    const status = cell(tr, "", "status");
    if (d.verified_at) {
      status.append(badge("verified", "ok"), el("span", { className: "sub", textContent: `since ${day(d.verified_at)}` }));
    } else {
      status.append(badge("pending", "pending"),
        el("span", { className: "sub", textContent: `Publish this TXT record in the DNS of ${d.name}:` }),
        el("code", { className: "challenge", textContent: d.challenge }));
    }
    const actions = cell(tr, "", "actions");
    if (!d.verified_at) {
      actions.append(button("Confirm (demo DNS check)", "confirm-domain", () => act(
        () => api("POST", `/api/demo${path}/confirm`),
        `${d.name} is verified: whoever signs in with an address there ${d.mode === "auto_join" ? `joins as ${roleLabel(d.role)}` : "is shown the team"}`)));
    }
    if (isOwner) {
      actions.append(button("Remove", "remove-domain", () => act(() => api("DELETE", `/api${path}`), `Removed the domain ${d.name}`)));
    }
    return tr;
  }));
}

// showKeys shows the API keys section of the team id: the user's keys, or
// with "Show every key" (for those who manage members) every key of the
// team, each with a button to revoke it; and the form to create one.
async function showKeys(id) {
  const manage = can("members.manage");
  $("#key-service-label").hidden = !manage;
  $("#keys-all-label").hidden = !manage;
  if (!manage) $("#keys-all").checked = false;
  if ($("#key-result").dataset.account !== id) $("#key-result").hidden = true;
  const sel = $("#key-create select.key-roles");
  const chosen = sel.value;
  const list = (roles?.roles || []).filter((r) => covers(r.name));
  sel.replaceChildren(new Option(`my role (${active.role})`, ""), ...list.map((r) => new Option(roleLabel(r.name), r.name)));
  sel.value = list.some((r) => r.name === chosen) ? chosen : "";
  const all = $("#keys-all").checked;
  await fill("#keys", `/api/teams/${id}/keys${all ? "?all=true" : ""}`, () => {}, (k) => {
    const tr = el("tr", { dataset: { key: k.id } });
    cell(tr, k.name, "name");
    cell(tr, k.service ? "service account" : k.user_id, "owner");
    cell(tr, k.actions ? `${k.role}: ${k.actions.join(", ")}` : k.role, "role");
    cell(tr, when(k.created_at));
    cell(tr, k.last_used_at ? `${when(k.last_used_at)} from ${k.last_used_ip || "?"}` : "never", "last-used");
    const expired = k.expires_at && new Date(k.expires_at) <= new Date();
    cell(tr, k.expires_at ? `${when(k.expires_at)}${expired ? " (expired)" : ""}` : "never", "expires");
    cell(tr, k.revoked_at ? `${when(k.revoked_at)}${k.revoked_by ? ` by ${k.revoked_by}` : ""}` : "", "revoked");
    const actions = cell(tr, "", "actions");
    if (!k.revoked_at && (k.user_id === me.user.id || manage)) {
      actions.append(button("Revoke", "revoke-key", () => act(
        () => api("DELETE", `/api/teams/${id}/keys/${encodeURIComponent(k.id)}`), `Revoked the key ${k.name}`)));
    }
    return tr;
  });
}

// fill shows the first page of the list at path in the table's body, a row
// made by row for each item (seen is told of each page's items first), and
// shows the "More" button after the table while a next page remains; the
// button appends it.
async function fill(table, path, seen, row) {
  const more = $(`${table} + .more`);
  const page = async (cursor) => {
    const sep = path.includes("?") ? "&" : "?";
    const p = await api("GET", cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
    seen(p.items);
    const rows = p.items.map(row);
    if (cursor) $(`${table} tbody`).append(...rows);
    else $(`${table} tbody`).replaceChildren(...rows);
    more.hidden = !p.next;
    more.onclick = () => page(p.next).catch((e) => say(e.message, true));
  };
  await page("");
}

function showLink(inv) {
  $("#invite-result").hidden = false;
  $("#invite-link").value = inv.link;
}

// copyLink shows the invite's link and puts it on the clipboard.
async function copyLink(inv) {
  showLink(inv);
  await copy($("#invite-link"));
}

// copy puts the value of the input on the clipboard.
async function copy(input) {
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    document.execCommand("copy");
  }
}

// What each event of the audit log says happened.
const eventWords = {
  "account.created": "created the account",
  "account.converted": "made the personal account a team",
  "account.renamed": "renamed the team",
  "account.team_deleted": "deleted the team",
  "account.owner_changed": "changed the account's owner",
  "account.secure_sign_in_changed": "changed the secure sign-in requirement",
  "account.seat_limit_changed": "changed the seat limit",
  "member.added": "added a member",
  "member.joined": "joined the team",
  "member.role_changed": "changed a member's role",
  "member.removed": "removed a member",
  "member.left": "left the team",
  "member.suspended": "suspended a member",
  "member.reinstated": "reinstated a member",
  "member.expiry_set": "set when a membership ends",
  "member.expired": "a membership ended",
  "member.role_expired": "a role given for a while ended",
  "role.defined": "defined a team role",
  "role.deleted": "deleted a team role",
  "invite.created": "invited",
  "invite.resent": "resent an invitation",
  "invite.revoked": "revoked an invitation",
  "invite.link_copied": "copied an invitation's link",
  "invite.accept_failed": "could not accept an invitation",
  "transfer.started": "started an ownership change",
  "transfer.confirmed": "confirmed an ownership change",
  "transfer.accepted": "accepted an ownership change",
  "transfer.cancelled": "cancelled an ownership change",
  "domain.added": "claimed an email domain",
  "domain.verified": "verified an email domain",
  "domain.removed": "removed an email domain",
  "api_key.created": "created an API key",
  "api_key.revoked": "revoked an API key",
  "api_key.narrowed": "narrowed an API key to its owner's role",
  "audit.queried": "read the audit log",
  "audit.exported": "exported the audit log",
  "audit.pruned": "pruned the audit log",
  "user.switched": "switched accounts",
  "user.erased": "erased a user's data",
};

// readable turns an event's before and after into lines such as
// "role: dev → basic".
function readable(before, after) {
  const named = new Set(["role", "fallback_role", "status", "kind"]); // values that are names, such as awaiting_accept
  const show = (v, k) => {
    if (v === undefined || v === null || v === "") return "none";
    if (Array.isArray(v)) return v.length ? v.join(", ") : "none";
    if (typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v)) return when(v);
    if (typeof v === "string" && named.has(k)) return roleLabel(v);
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  };
  const b = before && typeof before === "object" ? before : before === undefined ? {} : { value: before };
  const a = after && typeof after === "object" ? after : after === undefined ? {} : { value: after };
  const lines = [];
  for (const k of new Set([...Object.keys(b), ...Object.keys(a)])) {
    const key = k.replaceAll("_", " ");
    if (!(k in a)) lines.push(`${key} was ${show(b[k], k)}`);
    else if (!(k in b)) lines.push(`${key}: ${show(a[k], k)}`);
    else if (show(b[k], k) !== show(a[k], k)) lines.push(`${key}: ${show(b[k], k)} → ${show(a[k], k)}`);
  }
  return lines;
}

async function loadAudit(more) {
  const f = new FormData($("#audit-filter"));
  const q = new URLSearchParams();
  for (const [k, v] of f) if (v) q.set(k, v);
  if (more && auditNext) q.set("cursor", auditNext);
  const page = await api("GET", `/api/teams/${active.account.id}/audit?${q}`);
  q.delete("limit");
  q.delete("cursor");
  for (const format of ["ndjson", "csv"]) {
    q.set("format", format);
    $(`#audit-export-${format}`).href = `/api/teams/${active.account.id}/audit/export?${q}`;
  }
  auditNext = page.next;
  $("#audit-more").hidden = !page.next;
  const rows = page.items.map((e) => {
    const tr = el("tr", { dataset: { action: e.action } });
    cell(tr, when(e.time));
    cell(tr, e.actor || "the host", e.actor ? "" : "note");
    cell(tr, eventWords[e.action] || e.action, "what").append(el("span", { className: "code action", textContent: e.action }));
    cell(tr, `${e.resource_type ?? ""} ${e.resource_id ?? ""}`.trim(), "resource");
    cell(tr, e.result, e.result === "denied" ? "denied" : "");
    const details = readable(e.before, e.after);
    if (e.reason) details.push(`reason: ${e.reason}`);
    const td = cell(tr, "", "details");
    td.append(...details.map((d) => el("span", { className: "sub", textContent: d })));
    return tr;
  });
  if (more) $("#audit tbody").append(...rows);
  else $("#audit tbody").replaceChildren(...rows);
}

$("#signin").onsubmit = (ev) => {
  ev.preventDefault();
  act(async () => {
    const u = await api("POST", "/api/demo/signin", Object.fromEntries(new FormData(ev.target)));
    const team = u.domain_team;
    if (!team || team.joined) return team;
    // Suggested: say so unless the user is a member already.
    const now = await api("GET", "/api/me");
    return now.accounts.some((a) => a.account.id === team.id) ? null : team;
  }, (team) => !team ? "Signed in"
    : team.joined ? `Signed in. You joined ${team.name} as ${roleLabel(team.role)} through your email domain: switch to it with the account selector.`
    : `Signed in. ${team.name} uses your email domain: ask its owner for an invitation.`);
};
$("#signout").onclick = () => act(() => api("POST", "/api/demo/signout"), "Signed out");
$("#account").onchange = (ev) => act(
  () => api("POST", `/api/accounts/${ev.target.value}/switch`), "Switched account");
$("#convert").onsubmit = (ev) => {
  ev.preventDefault();
  const name = new FormData(ev.target).get("name");
  act(() => api("POST", `/api/accounts/${active.account.id}/convert`, { name }), `Converted to the team ${name}`);
};
$("#invite select.roles").onchange = showRoleHint;
$("#invite").onsubmit = (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const emails = f.get("emails").split(/[\s,]+/).filter(Boolean);
  const body = { role: f.get("role"), emails };
  if (f.get("require_secure") === "on") body.require_secure = true;
  act(async () => {
    const invs = await api("POST", `/api/teams/${active.account.id}/invites`, body);
    if (emails.length === 0) showLink(invs[0]);
    else $("#invite-result").hidden = true;
    ev.target.emails.value = "";
  }, emails.length ? `Invited ${emails.join(", ")}` : "Invite link created: copy it and share it");
};
$("#copy-link").onclick = async () => {
  await copyLink({ link: $("#invite-link").value });
  say("Link copied");
};
$("#domain-add").onsubmit = (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const body = { name: f.get("name").trim(), mode: f.get("mode"), role: f.get("role") };
  act(async () => {
    const d = await api("POST", `/api/teams/${active.account.id}/domains`, body);
    $("#domain-name").value = "";
    return d;
  }, (d) => `Claimed ${d.name}: publish its TXT record in the domain's DNS`);
};
$("#plan").onsubmit = (ev) => {
  ev.preventDefault();
  const seats = Number(new FormData(ev.target).get("seats"));
  act(() => api("PUT", `/api/demo/teams/${active.account.id}/plan`, { seats }),
    seats ? `The plan now has ${plural(seats, "seat", "seats")}` : "The plan now has no seat limit");
};
$("#key-create").onsubmit = (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const body = { name: f.get("name") };
  const service = f.get("service") === "on";
  if (f.get("role")) body.role = f.get("role");
  if (service) {
    body.service = true;
    body.role ||= active.role; // a service account needs a role
  }
  if (f.get("expires")) body.expires_at = new Date(`${f.get("expires")}T00:00:00`).toISOString();
  const id = active.account.id;
  act(async () => {
    const k = await api("POST", `/api/teams/${id}/keys`, body);
    $("#key-token").value = k.token;
    $("#key-result").dataset.account = id;
    $("#key-result").hidden = false;
    ev.target.reset();
  }, `${service ? "Service account" : "Key"} ${body.name} created: copy it now, it is shown once`);
};
$("#copy-key").onclick = async () => {
  await copy($("#key-token"));
  say("Key copied");
};
$("#keys-all").onchange = () => showKeys(active.account.id).catch((e) => say(e.message, true));
$("#create-team").onsubmit = (ev) => {
  ev.preventDefault();
  const name = new FormData(ev.target).get("name");
  act(async () => {
    const team = await api("POST", "/api/teams", { name });
    await api("POST", `/api/accounts/${team.id}/switch`);
    ev.target.reset();
  }, `Created the team ${name}`);
};
$("#preview-secure").onclick = async () => {
  try {
    const rows = await api("GET", `/api/teams/${active.account.id}/secure-sign-in`);
    $("#secure-preview").replaceChildren(...(rows.length ? rows : [null]).map((r) => el("li", {
      textContent: r ? `${r.name} (${r.user_id}) signs in with ${r.sign_in}` : "Nobody: every member signs in securely.",
    })));
  } catch (e) {
    say(e.message, true);
  }
};
$("#apply-secure").onclick = () => {
  const require = $("#require-secure").checked;
  act(() => api("PUT", `/api/teams/${active.account.id}/secure-sign-in`, { require }),
    require ? "The team now requires secure sign-in" : "The team no longer requires secure sign-in");
};
$("#handover").onsubmit = (ev) => {
  ev.preventDefault();
  const sel = $("#handover-to");
  const to = sel.value;
  const who = sel.selectedOptions[0]?.textContent || to;
  confirmThen(`Hand ${active.account.name} over to ${who}?`, [
    `${who} becomes the account's owner: only they may delete the team or hand it over again. You stay a member with your role.`,
    `You confirm through the link emailed to you; then ${who} accepts through the link emailed to them.`,
  ], "Start the handover", () => api("POST", `/api/teams/${active.account.id}/transfers`, { to, kind: "account" }),
  "Handover started: confirm it through the link emailed to you");
};
$("#leave").onclick = () => {
  const name = active.account.name;
  confirmThen(`Leave ${name}?`, [`You lose access to ${name} at once, with your API keys for it. To come back you need a new invitation.`],
    "Leave", () => api("POST", `/api/teams/${active.account.id}/leave`), "You left the team");
};
$("#delete-team").onclick = () => {
  const name = active.account.name;
  confirmThen(`Delete the team ${name}?`, [
    `Every other member loses access, pending invitations and ownership changes are cancelled, and the account becomes your personal account again.`,
  ], "Delete team", () => api("DELETE", `/api/teams/${active.account.id}`), "Team deleted: the account is personal again");
};
$("#audit-filter").onsubmit = (ev) => {
  ev.preventDefault();
  loadAudit(false).catch((e) => say(e.message, true));
};
$("#audit-more").onclick = () => loadAudit(true).catch((e) => say(e.message, true));

load().catch((e) => say(e.message, true));
