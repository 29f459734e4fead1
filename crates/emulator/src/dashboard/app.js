// devfault dashboard: plain JavaScript over the admin API (the same JSON curl gets).
// Every call goes through api(); every failure is shown in words in #messages.
"use strict";

const $ = (id) => document.getElementById(id);
const PAGE = 12;            // devices per page
const KEEP = 500;           // journal entries kept in the page
const TOKEN_KEY = "devfault-admin-token";

// ---- the admin API ----------------------------------------------------------------------

class ApiError extends Error {}

/** Calls the admin API; answers the parsed JSON, or throws an ApiError saying what failed. */
async function api(path, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = "Bearer " + token;
  let response;
  try {
    response = await fetch(path, { ...options, headers });
  } catch (error) {
    throw new ApiError(`cannot reach the admin API (${path}): ${error.message}; is devfault serve still running?`);
  }
  if (response.status === 401) {
    askForToken(token ? "the token was refused" : "the admin API asks for a token");
    throw new ApiError(`${path}: HTTP 401, the admin API wants a token (enter it above)`);
  }
  if (options.stream) {
    if (!response.ok) throw new ApiError(`${path}: HTTP ${response.status}`);
    return response;
  }
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (_) { /* shown below */ }
  if (!response.ok) {
    const why = body && body.error ? body.error : text.slice(0, 200) || "no body";
    throw new ApiError(`${options.method || "GET"} ${path}: HTTP ${response.status}, ${why}`);
  }
  if (body === null && text) throw new ApiError(`${path}: the answer is not JSON`);
  return body;
}

const send = (method, path, value) =>
  api(path, { method, body: value === undefined ? undefined : JSON.stringify(value),
              headers: { "Content-Type": "application/json" } });

function askForToken(why) {
  const form = $("token-form");
  form.querySelector("p").textContent = `${why}. Enter the admin token (Authorization: Bearer); it is kept in this tab only.`;
  form.hidden = false;
  $("token-input").focus();
}

// ---- messages ---------------------------------------------------------------------------

function say(text, kind = "info") {
  const box = $("messages");
  const p = el("p", { class: kind, role: kind === "error" ? "alert" : null }, text);
  const close = el("button", { type: "button", "aria-label": "Dismiss this message" }, "Dismiss");
  close.addEventListener("click", () => p.remove());
  p.append(close);
  box.prepend(p);
  while (box.children.length > 3) box.lastChild.remove();
  if (kind === "info") setTimeout(() => p.remove(), 6000);
}

/** Runs an action, showing its error (never a silent failure). */
async function attempt(what, action) {
  try { return await action(); } catch (error) { say(`${what} failed: ${error.message}`, "error"); }
}

/** An element: el("td", {class: "x"}, "text", child...). Text is never parsed as HTML. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** Replaces a container's children, keeping the keyboard focus on the same control. */
function replaceKeepingFocus(container, children) {
  const active = document.activeElement;
  let key = null;
  if (active && container.contains(active)) {
    const holder = active.closest("[data-key]");
    key = [holder ? holder.dataset.key : "", active.tagName, active.getAttribute("aria-label") || active.textContent];
  }
  container.replaceChildren(...children);
  if (!key) return;
  for (const node of container.querySelectorAll("button, select, input")) {
    const holder = node.closest("[data-key]");
    if ((holder ? holder.dataset.key : "") === key[0] && node.tagName === key[1] &&
        (node.getAttribute("aria-label") || node.textContent) === key[2]) { node.focus(); return; }
  }
}

const button = (label, onClick, attrs = {}) => {
  const b = el("button", { type: "button", ...attrs }, label);
  b.addEventListener("click", onClick);
  return b;
};

// ---- views ------------------------------------------------------------------------------

const VIEWS = ["devices", "journal", "faults", "provocations", "registry", "thinq-events"];
const loaders = {};

function show() {
  const view = VIEWS.includes(location.hash.slice(1)) ? location.hash.slice(1) : "devices";
  for (const id of VIEWS) $(id).hidden = id !== view;
  for (const link of document.querySelectorAll("nav a")) {
    link.toggleAttribute("aria-current", link.getAttribute("href") === "#" + view);
    if (link.hasAttribute("aria-current")) link.setAttribute("aria-current", "page");
  }
  if (loaders[view]) attempt(`Loading ${view}`, loaders[view]);
}

// ---- devices ----------------------------------------------------------------------------

let deviceIds = [];
let devicePage = 0;

async function loadIds() {
  const index = await api("/");
  deviceIds = index.devices;
  const list = $("device-ids");
  list.replaceChildren(...deviceIds.slice(0, 1000).map((id) => el("option", { value: id })));
}

function filteredIds() {
  const words = $("device-filter").value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  return deviceIds.filter((id) => words.every((w) => id.toLowerCase().includes(w) ||
    (w === "bravia" && id.startsWith("bravia")) ||
    (w === "thinq" && !id.startsWith("bravia"))));
}

loaders.devices = async () => {
  if (!deviceIds.length) await loadIds();
  const ids = filteredIds();
  const pages = Math.max(1, Math.ceil(ids.length / PAGE));
  devicePage = Math.min(devicePage, pages - 1);
  const shown = ids.slice(devicePage * PAGE, devicePage * PAGE + PAGE);
  $("device-page").textContent = `page ${devicePage + 1} of ${pages} (${ids.length} devices)`;
  $("device-prev").disabled = devicePage === 0;
  $("device-next").disabled = devicePage >= pages - 1;
  const devices = await Promise.all(shown.map((id) => api(`/devices/${encodeURIComponent(id)}`)));
  replaceKeepingFocus($("device-list"), devices.map(deviceCard));
};

function onOff(flag, on, off) {
  return el("span", { class: flag ? "state-on" : "state-off" }, flag ? on : off);
}

function deviceCard(device) {
  const s = device.state || {};
  const patch = (value, what) => () => attempt(`${device.id}: ${what}`, async () => {
    await send("PATCH", `/devices/${encodeURIComponent(device.id)}`, value);
    say(`${device.id}: ${what}`);
    await loaders.devices();
  });
  const facts = el("p", { class: "facts" });
  const actions = el("div", { class: "actions", role: "group", "aria-label": `${device.id} actions` });
  if (device.api === "bravia") {
    const speaker = s.volume && s.volume.speaker ? s.volume.speaker.volume : null;
    facts.append("power ", onOff(s.power === "active", s.power, s.power), `, speaker volume ${speaker}, input ${s.input}`,
      s.mute ? ", muted" : "");
    actions.append(
      button("Power on", patch({ power: "active" }, "power on")),
      button("Standby", patch({ power: "standby" }, "standby")),
      button("Unreachable", patch({ power: "unreachable" }, "unreachable")),
      button("Volume −", patch({ volume: { speaker: Math.max(0, (speaker || 0) - 1) } }, "volume down"), { "aria-label": `${device.id} volume down` }),
      button("Volume +", patch({ volume: { speaker: (speaker || 0) + 1 } }, "volume up"), { "aria-label": `${device.id} volume up` }),
      button(s.mute ? "Unmute" : "Mute", patch({ mute: !s.mute }, s.mute ? "unmute" : "mute")));
  } else if ("online" in s) {
    // A washer's state is a list of locations (MAIN, MINI); a patch sets every location.
    const first = Array.isArray(s.state) ? s.state[0] : s.state;
    const run = first && first.runState ? first.runState.currentState : null;
    facts.append(`${s.alias || ""} (${s.deviceType}) `, onOff(s.online, "online", "offline"), ", remote control ",
      onOff(s.remoteControlEnabled, "on", "off"), run ? `, run state ${run}` : "");
    actions.append(
      button(s.online ? "Go offline" : "Go online", patch({ online: !s.online }, s.online ? "offline" : "online")),
      button(s.remoteControlEnabled ? "Remote control off" : "Remote control on",
        patch({ remoteControlEnabled: !s.remoteControlEnabled }, "remote control")));
    if (run !== null) {
      const select = el("select", { "aria-label": `${device.id} run state` },
        ...["INITIAL", "RUNNING", "PAUSE", "END", "ERROR"].map((v) => el("option", { selected: v === run }, v)));
      actions.append(select, button("Set run state", () => patch({ runState: { currentState: select.value } }, `run state ${select.value}`)()));
    }
  } else {
    facts.append(`${s.appliances} appliances, rate limit ${s.rate_limit} calls per ${s.rate_window_s} s (${s.rate_limit_code})`);
  }
  const edit = button("Edit state patch", () => {
    $("patch-device").value = device.id;
    $("patch-text").focus();
  });
  actions.append(edit);
  return el("article", { class: "card", "data-key": device.id },
    el("h3", {}, device.id, el("span", { class: "meta" }, `${device.api} · ${device.url || ""}`)),
    facts, actions,
    el("details", {}, el("summary", {}, "Full state"), el("pre", {}, JSON.stringify(s, null, 2))));
}

// ---- journal ----------------------------------------------------------------------------

let journal = [];          // newest first
let lastSeq = 0;
let streaming = false;

function failed(entry) {
  return entry.outcome !== "answered" || (entry.decoded && entry.decoded.code) ||
    (entry.response && entry.response.status >= 400);
}

function journalFilter(entry) {
  const device = $("journal-device").value.trim();
  const apiName = $("journal-api").value;
  const code = $("journal-code").value.trim();
  const outcome = $("journal-outcome").value;
  return (!device || entry.device === device) && (!apiName || entry.api === apiName) &&
    (!code || (entry.decoded && entry.decoded.code === code) || String(entry.response && entry.response.status) === code) &&
    (!outcome || (outcome === "failed" ? failed(entry) : entry.outcome === outcome));
}

function journalRow(entry) {
  const r = entry.request;
  const what = r.rpc_method ? `${r.method} ${r.path} ${r.rpc_method}` : `${r.method} ${r.path}`;
  const open = button(String(entry.seq), () => attempt(`Opening entry ${entry.seq}`, () => openEntry(entry.seq)),
    { "aria-label": `Open entry ${entry.seq}` });
  const code = entry.decoded ? `${entry.decoded.code}${entry.decoded.reason ? " " + entry.decoded.reason : ""}` : "";
  return el("tr", { class: failed(entry) ? "failed" : null, "data-key": entry.seq, "data-code": entry.decoded ? entry.decoded.code : "" },
    el("td", {}, open), el("td", {}, entry.time.slice(11, 23)), el("td", {}, entry.device), el("td", {}, what),
    el("td", {}, entry.response ? String(entry.response.status) : "—"), el("td", { class: "code" }, code),
    el("td", {}, entry.outcome.replace("_", " ")), el("td", {}, entry.fault ? `rule ${entry.fault.rule} (${entry.fault.action})` : ""));
}

function renderJournal() {
  replaceKeepingFocus($("journal-rows"), journal.filter(journalFilter).slice(0, 200).map(journalRow));
}

function addEntry(entry) {
  if (journal.some((e) => e.seq === entry.seq)) return;
  journal.unshift(entry);
  journal.sort((a, b) => b.seq - a.seq);
  if (journal.length > KEEP) journal.length = KEEP;
  lastSeq = Math.max(lastSeq, entry.seq);
  if (!$("journal").hidden) scheduleJournalRender();
  if (!$("devices").hidden) scheduleDeviceRefresh();
  if (!$("faults").hidden && entry.fault) scheduleFaultRefresh();
}

/** A function that runs `action` 300 ms after the first of a burst of calls, once for the burst. */
function debounced(what, action) {
  let timer = null;
  return () => {
    if (timer) return;
    timer = setTimeout(() => { timer = null; attempt(what, action); }, 300);
  };
}
// At most a few redraws a second, however fast the exchanges come.
const scheduleJournalRender = debounced("Showing the journal", async () => renderJournal());
const scheduleDeviceRefresh = debounced("Refreshing devices", () => loaders.devices());
const scheduleFaultRefresh = debounced("Refreshing rules", () => loaders.faults());

async function openEntry(seq) {
  const lang = $("registry-lang").value;
  const entry = await api(`/journal/${seq}?lang=${lang}`);
  const box = $("journal-detail");
  const d = entry.diagnosis;
  const diagnosis = !d ? "No response: nothing to diagnose." : d.error ? d.error : d.text + (d.note ? `\n(${d.note})` : "");
  const headers = (h) => Object.entries(h).map(([k, v]) => `${k}: ${v}`).join("\n");
  const req = entry.request, res = entry.response;
  box.replaceChildren(
    el("h3", {}, `Entry ${entry.seq}: ${entry.device}, ${entry.time}, ${entry.duration_ms} ms`),
    el("div", { class: "detail-grid" },
      el("div", {}, el("h4", {}, "Request (credentials redacted)"),
        el("pre", {}, `${req.method} ${req.path}\n${headers(req.headers)}\n\n${req.body}`)),
      el("div", {}, el("h4", {}, "Response"),
        el("pre", {}, res ? `HTTP ${res.status}\n${headers(res.headers)}\n\n${res.body}` : `no response (${entry.outcome.replace("_", " ")})`)),
      el("div", {}, el("h4", {}, "Diagnosis"), el("pre", { class: "diagnosis" }, diagnosis))),
    button("Close", () => { box.hidden = true; }));
  box.hidden = false;
  box.focus();
}

loaders.journal = async () => {
  if (!deviceIds.length) await loadIds();
  renderJournal();
};

/** Reads the journal, then follows GET /journal/events (fetch streaming, so the token header goes too). */
async function follow() {
  if (streaming) return;
  streaming = true;
  const badge = $("journal-live");
  try {
    const held = await api("/journal?limit=200");
    held.entries.reverse().forEach(addEntry);
    renderJournal();
    const response = await api(`/journal/events?since=${lastSeq}`, { stream: true });
    badge.textContent = "live";
    badge.classList.add("live");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        handleEvent(block);
      }
    }
    throw new ApiError("the admin API closed the journal stream");
  } catch (error) {
    // Waiting for a token: the token form starts the stream again.
    if (!$("token-form").hidden) return;
    say(`Live journal: ${error.message}; trying again in 3 s`, "error");
  } finally {
    badge.textContent = "off";
    badge.classList.remove("live");
    streaming = false;
  }
  setTimeout(follow, 3000);
}

function handleEvent(block) {
  let event = "message", data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data += line.slice(5).replace(/^ /, "");
  }
  if (event === "entry") addEntry(JSON.parse(data));
  else if (event === "lagged") say(`Live journal: ${JSON.parse(data).missed} exchanges came too fast to show`, "error");
}

// ---- faults -----------------------------------------------------------------------------

const registryCache = {};
/** The codes a rule of `apiName` may answer: the registry's entries, or for the event path
 *  (`thinq-mqtt`, no registry) its CONNACK return codes, from the provocation list. */
async function registryOf(apiName) {
  if (!registryCache[apiName]) {
    registryCache[apiName] = apiName === MQTT_API
      ? (await mqttProvocations()).filter((p) => /^[0-9]+$/.test(p.code)).map((p) => {
        const reason = p.how.split(":")[0];
        return { code: p.code, reason, message: reason };
      })
      : (await api(`/registry?api=${apiName}`)).entries;
  }
  return registryCache[apiName];
}

async function fillCodes() {
  if (!$("f-api").value) { $("f-code").replaceChildren(); return; }
  const entries = await registryOf($("f-api").value);
  $("f-code").replaceChildren(...entries.map((e, i) =>
    el("option", { value: i }, `${e.code} — ${e.reason}${e.message !== e.reason ? ` (“${e.message}”)` : ""}`)));
}

function showActionFields() {
  const action = $("f-action").value;
  for (const label of document.querySelectorAll("#fault-form [data-for]")) {
    label.hidden = !label.dataset.for.split(" ").includes(action);
  }
}

loaders.faults = async () => {
  const faults = await api("/faults");
  $("fault-seed").textContent = faults.seed;
  replaceKeepingFocus($("fault-rows"), faults.rules.map((rule) => {
    const answer = rule.resolved ? `${rule.resolved.code} ${rule.resolved.reason}` :
      rule.status ? `HTTP ${rule.status}` : rule.delay_ms ? `${rule.delay_ms} ms` : "";
    return el("tr", { "data-key": rule.id },
      el("td", {}, String(rule.id)), el("td", {}, JSON.stringify(rule.match || {})), el("td", {}, rule.action),
      el("td", {}, answer), el("td", {}, String(rule.probability ?? 1)), el("td", {}, String(rule.count ?? "no limit")),
      el("td", { class: "fired" }, String(rule.fired)),
      el("td", {}, button("Delete", () => attempt(`Deleting rule ${rule.id}`, async () => {
        await send("DELETE", `/faults/${rule.id}`);
        say(`Rule ${rule.id} removed`);
        await loaders.faults();
      }), { class: "danger", "aria-label": `Delete rule ${rule.id}` })));
  }));
  if (!$("f-code").options.length) await fillCodes();
};

async function addRule() {
  const rule = { match: {}, action: $("f-action").value };
  for (const [id, key] of [["f-api", "api"], ["f-device", "device"], ["f-service", "service"], ["f-method", "method"],
    ["f-path", "path"], ["f-http-method", "http_method"]]) {
    const value = $(id).value.trim();
    if (value) rule.match[key] = value;
  }
  const number = (id, what) => {
    const text = $(id).value.trim();
    if (!text) return undefined;
    const value = Number(text);
    if (!Number.isFinite(value)) throw new ApiError(`${what} ${JSON.stringify(text)} is not a number`);
    return value;
  };
  if (rule.action === "code") {
    if (!rule.match.api) throw new ApiError("a code rule answers a code of one API: choose bravia, thinq or thinq-mqtt");
    const entries = await registryOf(rule.match.api);
    const entry = entries[Number($("f-code").value)];
    if (!entry) throw new ApiError("choose a code");
    rule.code = entry.code;
    if (entries.filter((e) => e.code === entry.code).length > 1) rule.message = entry.message;
  }
  const visible = (id) => !$(id).closest("label").hidden;
  if (visible("f-status")) rule.status = number("f-status", "status");
  if (visible("f-body") && $("f-body").value) rule.body = $("f-body").value;
  if (visible("f-delay")) rule.delay_ms = number("f-delay", "delay");
  rule.probability = number("f-probability", "probability");
  rule.count = number("f-count", "count");
  const headers = {};
  for (const line of $("f-headers").value.split("\n").map((l) => l.trim()).filter(Boolean)) {
    const colon = line.indexOf(":");
    if (colon < 1) throw new ApiError(`header line ${JSON.stringify(line)} is not "Name: value"`);
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  if (Object.keys(headers).length) rule.headers = headers;
  const added = await send("POST", "/faults", rule);
  say(`Rule ${added.id} added`);
  await loaders.faults();
}

// ---- provocations -----------------------------------------------------------------------

loaders.provocations = async () => {
  const id = $("provocation-device").value.trim();
  if (!id) throw new ApiError("give a device id");
  const [answer, device] = await Promise.all([api(`/devices/${encodeURIComponent(id)}/provocations`),
    api(`/devices/${encodeURIComponent(id)}`)]);
  $("provocation-rows").replaceChildren(...answer.provocations.map((p) => el("tr", { "data-code": p.code },
    el("td", {}, p.code), el("td", {}, p.via), el("td", { class: "how" }, p.how),
    el("td", {}, button("Provoke now", () => attempt(`Provoking ${p.code} on ${id}`, async () => {
      const rule = { match: { api: device.api, device: id }, action: "code", count: 1 };
      rule.code = device.api === "bravia" ? Number(p.code) : p.code;
      // Which message: the row the "how" quotes when the code has several, the whole
      // template when its message names a state the server fills in.
      const rows = (await registryOf(device.api)).filter((e) => String(e.code) === p.code);
      const row = rows.find((r) => p.how.includes(JSON.stringify(r.message))) || rows[0];
      if (row && (rows.length > 1 || row.template)) rule.message = row.message;
      const added = await send("POST", "/faults", rule);
      say(`Rule ${added.id} added: the next request to ${id} answers ${p.code}`);
    }), { "aria-label": `Provoke ${p.code} on ${id} now` })))));
};

// ---- the ThinQ event path ---------------------------------------------------------------

const MQTT_API = "thinq-mqtt";
const CLOUD_ID = "thinq-cloud";

/** The event path's provocations (CONNACK codes and faults, each fault with its rule). */
async function mqttProvocations() {
  const apis = (await api("/provocations")).apis;
  if (!apis[MQTT_API]) throw new ApiError("this server runs no ThinQ event path");
  return apis[MQTT_API].provocations;
}

loaders["thinq-events"] = async () => {
  const [cloud, provocations] = await Promise.all([api(`/devices/${CLOUD_ID}`), mqttProvocations()]);
  const mqtt = cloud.state.mqtt;
  $("mqtt-summary").textContent = `Broker ${mqtt.addr || "(not listening)"}; payloads ${mqtt.event_payload}; ` +
    `${mqtt.connections} connections, ${mqtt.refused} refused; ${mqtt.events} events, ${mqtt.queued} queued for absent clients.`;
  const yes = (flag) => (flag ? "yes" : "no");
  replaceKeepingFocus($("mqtt-sessions"), mqtt.sessions.map((s) => el("tr", { "data-key": s.client_id },
    el("td", {}, s.client_id), el("td", {}, yes(s.connected)), el("td", {}, yes(s.persistent)),
    el("td", {}, yes(s.subscribed)), el("td", {}, String(s.queued)), el("td", {}, String(s.in_flight)),
    el("td", {}, String(s.dropped)))));
  if (!mqtt.sessions.length) {
    $("mqtt-sessions").replaceChildren(el("tr", {}, el("td", { colspan: 7 }, "No session yet: a client connects after POST /client and POST /client/certificate.")));
  }
  replaceKeepingFocus($("mqtt-faults"), provocations.map((p) => el("tr", { "data-key": p.code },
    el("td", {}, p.code), el("td", {}, p.via), el("td", { class: "how" }, p.how),
    el("td", {}, p.rule ? button("Add once", () => attempt(`Adding the ${p.code} rule`, async () => {
      const added = await send("POST", "/faults", { ...p.rule, count: 1 });
      say(`Rule ${added.id} added: ${p.code}, once`);
    }), { "aria-label": `Add the ${p.code} rule once` }) : ""))));
};

async function publishEvent() {
  let event;
  try { event = JSON.parse($("event-text").value); } catch (error) { throw new ApiError(`the event is not JSON: ${error.message}`); }
  const id = $("event-device").value.trim();
  const answer = await send("POST", `/devices/${encodeURIComponent(id)}/events`, event);
  say(`${id}: the event went to ${answer.sent.sessions} ${answer.sent.sessions === 1 ? "session" : "sessions"}`);
  await loaders["thinq-events"]();
}

// ---- registry ---------------------------------------------------------------------------

loaders.registry = async () => {
  const params = new URLSearchParams({ q: $("registry-q").value.trim(), lang: $("registry-lang").value });
  if ($("registry-api").value) params.set("api", $("registry-api").value);
  const answer = await api(`/registry?${params}`);
  $("registry-count").textContent = `${answer.count} ${answer.count === 1 ? "entry" : "entries"}`;
  $("registry-results").replaceChildren(...answer.entries.slice(0, 200).map((e) =>
    el("article", { "data-code": String(e.code) }, el("pre", {}, e.text))));
};

// ---- wiring -----------------------------------------------------------------------------

function on(id, event, handler) {
  $(id).addEventListener(event, (e) => {
    if (event === "submit") e.preventDefault();
    handler(e);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  on("token-form", "submit", () => {
    sessionStorage.setItem(TOKEN_KEY, $("token-input").value);
    $("token-form").hidden = true;
    deviceIds = [];
    show();
    follow();
  });
  on("device-filter", "input", () => { devicePage = 0; attempt("Filtering devices", loaders.devices); });
  on("device-prev", "click", () => { devicePage -= 1; attempt("Previous page", loaders.devices); });
  on("device-next", "click", () => { devicePage += 1; attempt("Next page", loaders.devices); });
  on("patch-form", "submit", () => attempt("Applying the patch", async () => {
    let patch;
    try { patch = JSON.parse($("patch-text").value); } catch (error) { throw new ApiError(`the patch is not JSON: ${error.message}`); }
    const id = $("patch-device").value.trim();
    await send("PATCH", `/devices/${encodeURIComponent(id)}`, patch);
    say(`${id}: patch applied`);
    await loaders.devices();
  }));
  for (const id of ["journal-device", "journal-api", "journal-code", "journal-outcome"]) on(id, "input", renderJournal);
  on("journal-clear", "click", () => attempt("Emptying the journal", async () => {
    const answer = await send("DELETE", "/journal");
    journal = [];
    renderJournal();
    say(`${answer.cleared} entries removed`);
  }));
  on("seed-form", "submit", () => attempt("Setting the seed", async () => {
    const seed = Number($("seed-input").value.trim());
    if (!Number.isSafeInteger(seed) || seed < 0) throw new ApiError(`${JSON.stringify($("seed-input").value)} is not a seed (a whole number ≥ 0)`);
    await send("POST", "/faults/seed", { seed });
    await loaders.faults();
  }));
  on("faults-clear", "click", () => attempt("Removing every rule", async () => {
    const answer = await send("DELETE", "/faults");
    say(`${answer.removed} rules removed`);
    await loaders.faults();
  }));
  on("f-api", "change", () => attempt("Loading the registry's codes", fillCodes));
  on("f-action", "change", showActionFields);
  on("fault-form", "submit", () => attempt("Adding the rule", addRule));
  on("provocation-form", "submit", () => attempt("Loading provocations", loaders.provocations));
  on("event-form", "submit", () => attempt("Publishing the event", publishEvent));
  on("registry-form", "submit", () => attempt("Searching the registry", loaders.registry));
  on("registry-lang", "change", () => attempt("Searching the registry", loaders.registry));
  showActionFields();
  window.addEventListener("hashchange", show);
  show();
  follow();
  setInterval(() => { if (!$("devices").hidden && !document.hidden) scheduleDeviceRefresh(); }, 3000);
  setInterval(() => { if (!$("faults").hidden && !document.hidden) attempt("Refreshing rules", loaders.faults); }, 3000);
  setInterval(() => { if (!$("thinq-events").hidden && !document.hidden) attempt("Refreshing the event path", loaders["thinq-events"]); }, 3000);
});
