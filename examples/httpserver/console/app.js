// The team console: a page over roster's team API (package teamapi), mounted under /api/
// (its routes and answers are in its OpenAPI document, GET /api/openapi.json).
"use strict";

const $ = (sel) => document.querySelector(sel);
let me = null;      // GET /api/me
let active = null;  // the active account's entry
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

// act runs an action, reloads the page's data and then says what happened,
// so that the message appears once the page shows the result.
async function act(fn, done) {
  let msg = done, failed = false;
  try {
    await fn();
  } catch (e) {
    msg = e.message;
    failed = true;
  }
  await load();
  say(msg, failed);
}

function cell(tr, text, cls) {
  const td = tr.insertCell();
  td.textContent = text ?? "";
  if (cls) td.className = cls;
  return td;
}

function button(label, cls, onclick) {
  const b = document.createElement("button");
  b.textContent = label;
  b.className = cls;
  b.onclick = onclick;
  return b;
}

function roleSelect(select, value) {
  select.replaceChildren(...me.roles.map((r) => new Option(r, r, false, r === value)));
  return select;
}

const can = (action) => (me.can[active.account.id] || []).includes(action);
const when = (t) => new Date(t).toLocaleString();
const inviteToken = () => (location.pathname.match(/^\/invites\/([^/]+)$/) || [])[1];

async function load() {
  try {
    me = await api("GET", "/api/me");
  } catch (e) {
    if (e.status !== 401) return say(e.message, true);
    me = null;
  }
  for (const id of ["#signin-panel", "#join-panel", "#personal-panel", "#create-panel", "#team-panel", "#audit-panel", "#outbox-panel", "#selector", "#signout"]) {
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
  $("#account").replaceChildren(...me.accounts.map((a) =>
    new Option(a.account.kind === "team" ? `${a.account.name} (team, ${a.role})` : "Personal", a.account.id, false, !!a.active)));

  const tok = inviteToken();
  if (tok) await showInvite(tok);
  if (active.account.kind === "personal") {
    $("#personal-panel").hidden = !can("settings.manage");
  } else {
    await showTeam();
  }
  if (can("audit.read")) {
    $("#audit-panel").hidden = false;
    await loadAudit(false);
  }
  const mail = await api("GET", "/api/demo/outbox");
  $("#outbox-panel").hidden = mail.length === 0;
  $("#outbox").replaceChildren(...mail.map((m) => {
    const li = document.createElement("li");
    li.textContent = `${m.kind}: ${m.text} `;
    const a = document.createElement("a");
    a.href = m.link;
    a.textContent = m.link;
    li.append(a);
    return li;
  }));
}

async function showInvite(tok) {
  $("#join-panel").hidden = false;
  try {
    const p = await api("GET", `/api/invites/${tok}`);
    $("#join-text").textContent = `${p.inviter_name} invites you to join ${p.team} as ${p.role}.`;
    $("#join").hidden = false;
    $("#join").onclick = () => act(async () => {
      const m = await api("POST", `/api/invites/${tok}/accept`);
      history.replaceState(null, "", "/");
      return m;
    }, `Joined ${p.team} as ${p.role}. Switch to it with the account selector.`);
  } catch (e) {
    $("#join-text").textContent = `This invitation cannot be used: ${e.message}`;
    $("#join").hidden = true;
  }
}

async function showTeam() {
  const id = active.account.id;
  $("#team-panel").hidden = false;
  $("#team-name").textContent = active.account.name;
  $("#my-role").textContent = active.role;
  $("#delete-team").hidden = !can("settings.manage");
  $("#secure-status").hidden = !active.account.require_secure_sign_in;
  $("#security-panel").hidden = !can("settings.manage");
  $("#require-secure").checked = !!active.account.require_secure_sign_in;
  $("#secure-preview").replaceChildren();
  const manage = can("members.manage");

  let showSignIn = false;
  await fill("#members", `/api/teams/${id}/members`, (rows) => {
    showSignIn ||= rows.some((r) => r.sign_in);
    document.querySelectorAll(".signin-col").forEach((th) => (th.hidden = !showSignIn));
  }, (r) => {
    const tr = document.createElement("tr");
    tr.dataset.user = r.user_id ?? "";
    cell(tr, r.name);
    cell(tr, r.email);
    cell(tr, r.role, "role");
    cell(tr, r.status);
    if (showSignIn) cell(tr, r.sign_in, "signin");
    const actions = cell(tr, "");
    if (manage && r.status === "joined" && r.user_id !== me.user.id) {
      const sel = roleSelect(document.createElement("select"), r.role);
      sel.className = "new-role";
      actions.append(sel,
        button("Change role", "change-role", () => act(
          () => api("PATCH", `/api/teams/${id}/members/${encodeURIComponent(r.user_id)}`, { role: sel.value }),
          `Changed ${r.user_id}'s role to ${sel.value}`)),
        button("Remove", "remove", () => act(
          () => api("DELETE", `/api/teams/${id}/members/${encodeURIComponent(r.user_id)}`),
          `Removed ${r.user_id}`)));
    }
    return tr;
  });

  $("#invite-panel").hidden = !can("members.invite");
  if (can("members.invite")) {
    roleSelect($("#invite select.roles"), me.top === "admin" ? "basic" : "member");
    await fill("#invites", `/api/teams/${id}/invites?status=pending`, () => {}, (inv) => {
      const tr = document.createElement("tr");
      tr.dataset.invite = inv.id;
      cell(tr, inv.kind);
      cell(tr, inv.email);
      cell(tr, inv.role);
      cell(tr, inv.created_by);
      cell(tr, inv.expires_at ? new Date(inv.expires_at).toLocaleString() : "never");
      cell(tr, "").append(
        button("Copy link", "copy-invite", () => act(async () => copyLink(await api("POST", `/api/teams/${id}/invites/${inv.id}/link`)),
          "Link copied")),
        button("Resend", "resend", () => act(async () => showLink(await api("POST", `/api/teams/${id}/invites/${inv.id}/resend`)),
          "Invite resent: the old link no longer works")),
        button("Revoke", "revoke", () => act(() => api("DELETE", `/api/teams/${id}/invites/${inv.id}`), "Invite revoked")));
      return tr;
    });
  }
  await showKeys(id);
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
  sel.replaceChildren(new Option(`my role (${active.role})`, ""), ...me.roles.map((r) => new Option(r, r)));
  sel.value = me.roles.includes(chosen) ? chosen : "";
  const all = $("#keys-all").checked;
  await fill("#keys", `/api/teams/${id}/keys${all ? "?all=true" : ""}`, () => {}, (k) => {
    const tr = document.createElement("tr");
    tr.dataset.key = k.id;
    cell(tr, k.name, "name");
    cell(tr, k.service ? "service account" : k.user_id, "owner");
    cell(tr, k.actions ? `${k.role}: ${k.actions.join(", ")}` : k.role, "role");
    cell(tr, when(k.created_at));
    cell(tr, k.last_used_at ? `${when(k.last_used_at)} from ${k.last_used_ip || "?"}` : "never", "last-used");
    const expired = k.expires_at && new Date(k.expires_at) <= new Date();
    cell(tr, k.expires_at ? `${when(k.expires_at)}${expired ? " (expired)" : ""}` : "never", "expires");
    cell(tr, k.revoked_at ? `${when(k.revoked_at)}${k.revoked_by ? ` by ${k.revoked_by}` : ""}` : "", "revoked");
    const actions = cell(tr, "");
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
    const tr = document.createElement("tr");
    tr.dataset.action = e.action;
    cell(tr, new Date(e.time).toLocaleString());
    cell(tr, e.actor);
    cell(tr, e.action, "action");
    cell(tr, `${e.resource_type ?? ""} ${e.resource_id ?? ""}`.trim(), "resource");
    cell(tr, e.result, e.result === "denied" ? "denied" : "");
    const details = [];
    if (e.before !== undefined) details.push(`before ${JSON.stringify(e.before)}`);
    if (e.after !== undefined) details.push(`after ${JSON.stringify(e.after)}`);
    if (e.reason) details.push(e.reason);
    cell(tr, details.join("; "));
    return tr;
  });
  if (more) $("#audit tbody").append(...rows);
  else $("#audit tbody").replaceChildren(...rows);
}

$("#signin").onsubmit = (ev) => {
  ev.preventDefault();
  act(() => api("POST", "/api/demo/signin", Object.fromEntries(new FormData(ev.target))), "Signed in");
};
$("#signout").onclick = () => act(() => api("POST", "/api/demo/signout"), "Signed out");
$("#account").onchange = (ev) => act(
  () => api("POST", `/api/accounts/${ev.target.value}/switch`), "Switched account");
$("#convert").onsubmit = (ev) => {
  ev.preventDefault();
  const name = new FormData(ev.target).get("name");
  act(() => api("POST", `/api/accounts/${active.account.id}/convert`, { name }), `Converted to the team ${name}`);
};
$("#invite").onsubmit = (ev) => {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const emails = f.get("emails").split(/[\s,]+/).filter(Boolean);
  act(async () => {
    const invs = await api("POST", `/api/teams/${active.account.id}/invites`, { role: f.get("role"), emails });
    if (emails.length === 0) showLink(invs[0]);
    else $("#invite-result").hidden = true;
  }, emails.length ? `Invited ${emails.join(", ")}` : "Invite link created: copy it and share it");
};
$("#copy-link").onclick = async () => {
  await copyLink({ link: $("#invite-link").value });
  say("Link copied");
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
    $("#secure-preview").replaceChildren(...(rows.length ? rows : [null]).map((r) => {
      const li = document.createElement("li");
      li.textContent = r ? `${r.name} (${r.user_id}) signs in with ${r.sign_in}` : "Nobody: every member signs in securely.";
      return li;
    }));
  } catch (e) {
    say(e.message, true);
  }
};
$("#apply-secure").onclick = () => {
  const require = $("#require-secure").checked;
  act(() => api("PUT", `/api/teams/${active.account.id}/secure-sign-in`, { require }),
    require ? "The team now requires secure sign-in" : "The team no longer requires secure sign-in");
};
$("#leave").onclick = () => act(() => api("POST", `/api/teams/${active.account.id}/leave`), "You left the team");
$("#delete-team").onclick = () => act(() => api("DELETE", `/api/teams/${active.account.id}`),
  "Team deleted: the account is personal again");
$("#audit-filter").onsubmit = (ev) => {
  ev.preventDefault();
  loadAudit(false).catch((e) => say(e.message, true));
};
$("#audit-more").onclick = () => loadAudit(true).catch((e) => say(e.message, true));

load();
