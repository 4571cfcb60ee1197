// The doctor's console of the reference platform: plain JavaScript, no build.
// State the tests (and a curious developer) can read is kept in window.telecabine.
//
// What it does beyond the call itself:
// - shows the kiosk's summary in French (the kiosk sends words; older kiosks' codes are
//   turned into words here too, so no "RECUP" or "Cel" ever reaches the doctor's eyes);
// - alerts on a patient's arrival in the waiting list: a beep (WebAudio), a banner and
//   the tab's title;
// - reconnects its signalling socket by itself (backoff 0.5 s → 8 s), then takes the
//   patient of the call under way again, which re-binds the room and lets the kiosk make
//   a fresh offer; the login survives a page reload (sessionStorage) for the same reason;
// - marks a document "(envoyé)" only when the kiosk acknowledged it (document-ack);
// - tells the second of two doctors plainly that a colleague already took the patient.
"use strict";

const $ = (id) => document.getElementById(id);
const T = window.telecabine = {
  token: null, me: null, ws: null, pc: null, channel: null, localStream: null,
  sessionId: null, config: null, chat: [], documentsSent: [], documents: {}, ended: false,
  endedBy: null, events: [], remoteMedia: {}, audioOnly: false, offers: 0,
  arrivals: 0, pendingArrivals: 0, beeps: 0, knownWaiting: new Set(), waiting: [],
  reconnects: 0, wsAttempts: 0, connectedOnce: false, loggingOut: false, takeError: null,
  lastError: null, audioCtx: null, reconnectTimer: null,
  // The examination devices (docs/call-exam.md): the kiosk's extra tracks, by mid.
  exam: { mids: { stethoscope: "", otoscope: "" }, on: { stethoscope: false, otoscope: false },
    tracks: {}, stills: [], large: false, requests: 0 },
};
const BASE_TITLE = document.title;
const STORE_KEY = "telecabine.console";
const ACK_TIMEOUT_MS = 10000;

function note(event) { T.events.push({ t: Date.now(), event }); }

function send(obj) {
  if (T.ws && T.ws.readyState === WebSocket.OPEN) { T.ws.send(JSON.stringify(obj)); return true; }
  return false;
}

function sendPeer(obj) {
  // Chat, media state and bye go on the data channel when it is open; signalling otherwise.
  if (T.channel && T.channel.readyState === "open") { T.channel.send(JSON.stringify(obj)); return true; }
  return send(obj);
}

// ---- login, and the login kept across a reload ------------------------------------------

function remember() {
  if (!T.token) { sessionStorage.removeItem(STORE_KEY); return; }
  sessionStorage.setItem(STORE_KEY, JSON.stringify({
    token: T.token, me: T.me, sessionId: T.ended ? null : T.sessionId,
  }));
}

function showConsole() {
  $("me-name").textContent = T.me.name;
  $("me-rpps").textContent = T.me.rpps;
  $("me-specialty").textContent = T.me.specialty;
  $("whoami").hidden = false; $("login-view").hidden = true; $("console-view").hidden = false;
}

function unlockAudio() {
  // Created on the login click (a user gesture), so the arrival beep may play later.
  try {
    if (!T.audioCtx) T.audioCtx = new (window.AudioContext || window.webkitAudioContext)();
    if (T.audioCtx.state === "suspended") T.audioCtx.resume();
  } catch (err) { note("audio-unavailable"); }
}

async function login(event) {
  event.preventDefault();
  unlockAudio();
  $("login-error").textContent = "";
  let response, body;
  try {
    response = await fetch("/console/api/login", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ login: $("login").value, password: $("password").value }),
    });
    body = await response.json();
  } catch (err) {
    $("login-error").textContent = "La plateforme ne répond pas. Réessayez dans un instant.";
    return;
  }
  if (!response.ok) { $("login-error").textContent = body.error; return; }
  T.token = body.token; T.me = body.doctor; T.loggingOut = false;
  remember();
  showConsole();
  T.config = await (await fetch("/console/api/config", { headers: { Authorization: `Bearer ${T.token}` } })).json();
  connect();
}

async function resumeAfterReload() {
  let saved = null;
  try { saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null"); } catch (err) { saved = null; }
  if (!saved || !saved.token) return;
  const check = await fetch("/console/api/me", { headers: { Authorization: `Bearer ${saved.token}` } }).catch(() => null);
  if (!check || !check.ok) { sessionStorage.removeItem(STORE_KEY); return; }
  T.token = saved.token; T.me = saved.me;
  showConsole();
  T.config = await (await fetch("/console/api/config", { headers: { Authorization: `Bearer ${T.token}` } })).json();
  if (saved.sessionId) { T.sessionId = saved.sessionId; T.resumeTake = true; }
  connect();
}

// ---- signalling socket, reconnected by itself ---------------------------------------------

function linkStatus(text) {
  $("link-status").textContent = text || "";
  $("link-status").hidden = !text;
}

function connect() {
  if (!T.token || T.loggingOut) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/signalling/doctor?token=${encodeURIComponent(T.token)}`);
  T.ws = ws;
  ws.onopen = () => {
    note("signalling-open");
    if (T.connectedOnce) T.reconnects += 1;
    T.connectedOnce = true; T.wsAttempts = 0;
    linkStatus("");
    // The call under way (or the one before a reload): take the patient again. The
    // platform re-binds the room to this socket and the kiosk makes a fresh offer.
    if (T.sessionId && !T.ended && (T.pc || T.resumeTake || T.callActive)) resumeCall();
  };
  ws.onmessage = (e) => { try { onSignal(JSON.parse(e.data)); } catch (err) { note("bad-signal " + err); } };
  ws.onclose = () => {
    note("signalling-closed");
    if (T.ws !== ws) return;
    T.ws = null;
    if (!T.loggingOut && T.token) scheduleReconnect();
  };
}

function scheduleReconnect() {
  if (T.reconnectTimer) return;
  const delay = Math.min(500 * 2 ** T.wsAttempts, 8000) * (0.8 + Math.random() * 0.4);
  T.wsAttempts += 1;
  linkStatus(`Connexion à la plateforme perdue — nouvelle tentative dans ${Math.ceil(delay / 1000)} s…`);
  T.reconnectTimer = setTimeout(async () => {
    T.reconnectTimer = null;
    const check = await fetch("/console/api/me", { headers: { Authorization: `Bearer ${T.token}` } }).catch(() => null);
    if (check && check.status === 401) { expired(); return; }
    if (!check) { scheduleReconnect(); return; }
    connect();
  }, delay);
}

function expired() {
  T.token = null; remember();
  $("console-view").hidden = true; $("whoami").hidden = true; $("login-view").hidden = false;
  $("login-error").textContent = "Votre session a expiré : reconnectez-vous.";
  linkStatus("");
}

async function resumeCall() {
  T.resumeTake = false;
  note("resume-take");
  try { await ensureMedia(); } catch (err) { note("media-failed " + err); }
  $("call").hidden = false;
  // Media may have gone on without the socket: then the call simply goes on ("resume"
  // tells the kiosk not to renegotiate); otherwise the kiosk makes a fresh offer.
  const live = !!(T.pc && T.pc.connectionState === "connected");
  if (!live) $("call-status").textContent = "— reprise de la consultation…";
  send({ type: "take", session_id: T.sessionId, resume: live });
}

// ---- words for the summary --------------------------------------------------------------

const STATUS_WORDS = { PROV: "identité provisoire", RECUP: "identité récupérée (INSi)",
  VALI: "identité validée (pièce d'identité)", QUAL: "identité qualifiée" };
const METHOD_WORDS = { SM: "saisie par un professionnel", CV: "carte Vitale", AV: "appli carte Vitale",
  INSI: "téléservice INSi", CB: "datamatrix INS", RFID: "puce sans contact" };
const SEX_WORDS = { female: "femme", male: "homme", unknown: "non précisé" };
const UNIT_WORDS = { Cel: "°C", "mm[Hg]": "mmHg", "[degF]": "°F" };
const MEASURE_NAMES = { temperature: "Température", "body-temperature": "Température",
  spo2: "Saturation en oxygène (SpO2)", heart_rate: "Pouls", "heart-rate": "Pouls",
  systolic: "Pression systolique", diastolic: "Pression diastolique", mean: "Pression moyenne",
  blood_pressure: "Tension artérielle", "blood-pressure": "Tension artérielle" };
const CONSENT_NAMES = { teleconsultation: "Téléconsultation",
  data_sharing: "Partage des données avec d'autres professionnels",
  assistance: "Présence d'un professionnel dans la cabine" };
const PARCOURS_WORDS = { within: "dans le parcours de soins", exception: "hors médecin traitant, exception reconnue",
  outside: "hors parcours de soins" };
const ROOM_STATUS = { waiting: "en attente", "in-call": "en consultation",
  "doctor-disconnected": "médecin déconnecté", "kiosk-disconnected": "cabine déconnectée" };

function words(map, value) { return value === undefined || value === null ? undefined : (map[value] || value); }
function frNumber(value) { return typeof value === "number" ? String(value).replace(".", ",") : String(value ?? ""); }
function yesNo(value) { return value === undefined ? undefined : (value ? "accepté" : "refusé"); }

function esc(text) {
  const span = document.createElement("span"); span.textContent = String(text ?? ""); return span.innerHTML;
}

function patientLabel(summary) {
  const id = (summary && summary.identity) || {};
  if (!id.display_name) return "(identité non partagée)";
  return id.age ? `${id.display_name}, ${id.age}` : id.display_name;
}

function cabinLabel(p) {
  const cabin = (p.summary && p.summary.cabin) || {};
  return cabin.site ? `${cabin.site}${cabin.city ? " (" + cabin.city + ")" : ""}` : p.cabin_id;
}

function waitedFor(since) {
  if (!since) return "";
  const minutes = Math.max(0, Math.floor((Date.now() / 1000 - since) / 60));
  return minutes < 1 ? "arrivé à l'instant" : `attend depuis ${minutes} min`;
}

function dl(rows) {
  return rows.filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("");
}

function listRows(value, names) {
  // New kiosks send [{label, value}]; older ones an object of codes.
  if (Array.isArray(value)) return value.map((r) => [r.label, r.value]);
  return Object.entries(value || {}).map(([k, v]) => [words(names, k) || k,
    typeof v === "boolean" ? yesNo(v) : typeof v === "object" ? JSON.stringify(v) : words(PARCOURS_WORDS, v)]);
}

function renderPatient(p) {
  const s = p.summary || {};
  const id = s.identity || {}, cabin = s.cabin || {};
  const rows = [
    ["Identité", id.display_name], ["Âge", id.age], ["Naissance", id.birth_date],
    ["Sexe", words(SEX_WORDS, id.sex)], ["Statut de l'identité", words(STATUS_WORDS, id.status)],
    ["Mode de recueil", words(METHOD_WORDS, id.method)], ["Vérification", id.verified],
    ...listRows(s.consent, CONSENT_NAMES).map(([k, v]) => [`Consentement : ${k}`, v]),
    ...listRows(s.orientation, {}).map(([k, v]) => [k === "parcours" ? "Parcours de soins" : k, v]),
  ];
  $("patient-panel").innerHTML = dl(rows);
  const reason = s.reason;
  if (!reason) $("reason").innerHTML = "<p>Non renseigné.</p>";
  else {
    const parts = [];
    if (reason.choices && reason.choices.length) parts.push(`<ul>${reason.choices.map((c) => `<li>${esc(c)}</li>`).join("")}</ul>`);
    if (reason.text) parts.push(`<p>« ${esc(reason.text)} »</p>`);
    if (reason.note) parts.push(`<p>${esc(reason.note)}</p>`);
    $("reason").innerHTML = parts.join("");
  }
  $("measurements").querySelector("tbody").innerHTML = (s.measurements || []).map((x) => {
    const label = x.label || MEASURE_NAMES[x.kind] || "Mesure";
    const value = x.label ? x.value : `${frNumber(x.value)} ${words(UNIT_WORDS, x.unit) || ""}`.trim();
    const by = x.by || (x.how === "manual" ? "saisie à la main" : "appareil connecté");
    const flags = x.flags ? ` <span class="flags">(${esc(x.flags)})</span>` : "";
    return `<tr><td>${esc(label)}</td><td>${esc(value)}${flags}</td><td>${esc(x.at)}</td><td>${esc(by)}</td></tr>`;
  }).join("");
  const missing = s.not_measured || [];
  $("not-measured").innerHTML = missing.map((r) => `<li>${esc(r.label)} : ${esc(r.value)}${r.at ? " (" + esc(r.at) + ")" : ""}</li>`).join("");
  $("not-measured-block").hidden = missing.length === 0;
  const incidents = s.incidents || [];
  $("incidents").innerHTML = incidents.map((r) => `<li>${r.at ? esc(r.at) + " — " : ""}${esc(r.text)}</li>`).join("");
  $("incidents-block").hidden = incidents.length === 0;
  $("cabin-panel").innerHTML = dl([
    ["Lieu", cabin.site || p.cabin_id], ["Adresse", cabin.address || cabin.city],
    ["Téléphone", cabin.phone], ["Code commune (INSEE)", cabin.insee_code],
  ]);
  $("patient").hidden = false;
}

// ---- waiting list and the arrival alert ----------------------------------------------------

function beep() {
  try {
    const ctx = T.audioCtx || (T.audioCtx = new (window.AudioContext || window.webkitAudioContext)());
    if (ctx.state === "suspended") ctx.resume();
    for (const [start, freq] of [[0, 880], [0.3, 660]]) {
      const osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = freq; gain.gain.value = 0.25;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(ctx.currentTime + start); osc.stop(ctx.currentTime + start + 0.22);
    }
    T.beeps += 1;
  } catch (err) { note("beep-failed"); }
}

function announceArrival(fresh) {
  T.arrivals += fresh.length; T.pendingArrivals += fresh.length;
  const where = fresh.map(cabinLabel).join(", ");
  $("arrival-text").textContent = fresh.length === 1
    ? `Nouveau patient en salle d'attente — ${where}`
    : `${fresh.length} nouveaux patients en salle d'attente — ${where}`;
  const banner = $("arrival");
  banner.hidden = false; banner.classList.remove("flash"); void banner.offsetWidth; banner.classList.add("flash");
  document.title = `(${T.pendingArrivals}) Nouveau patient — ${BASE_TITLE}`;
  beep();
  note("arrival");
}

function clearArrivals() {
  T.pendingArrivals = 0; $("arrival").hidden = true; document.title = BASE_TITLE;
}

function renderWaiting(patients) {
  T.waiting = patients;
  const fresh = patients.filter((p) => p.status === "waiting" && !T.knownWaiting.has(p.session_id));
  for (const p of patients) T.knownWaiting.add(p.session_id);
  if (fresh.length) announceArrival(fresh);
  const body = $("waiting").querySelector("tbody");
  body.innerHTML = "";
  for (const p of patients) {
    const tr = document.createElement("tr");
    tr.dataset.session = p.session_id;
    if (fresh.includes(p)) tr.className = "new-arrival";
    const mine = p.doctor && T.me && p.doctor === T.me.name;
    const busy = p.doctor && !mine && p.status === "in-call";
    tr.innerHTML = `<td>${esc(cabinLabel(p))}</td><td>${esc(patientLabel(p.summary))}</td>` +
      `<td class="status">${esc(words(ROOM_STATUS, p.status))}${p.doctor ? " · " + esc(p.doctor) : ""}` +
      `${p.status === "waiting" ? "<br><small>" + esc(waitedFor(p.since)) + "</small>" : ""}</td>` +
      `<td>${busy ? "" : `<button class="take" data-session="${esc(p.session_id)}">Prendre en charge</button>`}</td>`;
    body.appendChild(tr);
  }
  for (const b of body.querySelectorAll("button.take")) b.onclick = () => take(b.dataset.session);
}

function renderOnline(doctors) {
  $("online").innerHTML = doctors.map((d) => `<li>${esc(d.name)} · ${esc(d.specialty)}</li>`).join("");
}

// ---- the call -----------------------------------------------------------------------------

async function ensureMedia() {
  if (T.localStream) return;
  T.localStream = await navigator.mediaDevices.getUserMedia({
    audio: true, video: { width: 640, height: 480, frameRate: 30 },
  });
  $("local-video").srcObject = T.localStream;
}

async function take(sessionId) {
  clearArrivals();
  $("take-error").hidden = true; T.takeError = null;
  T.sessionId = sessionId; T.ended = false; T.endedBy = null; T.callActive = true;
  remember();
  await ensureMedia();
  $("call").hidden = false;
  $("call-status").textContent = "— connexion…";
  note("take");
  T.takeAt = performance.now(); T.firstFrameAt = null;
  if (!send({ type: "take", session_id: sessionId })) {
    $("call-status").textContent = "— en attente de la plateforme…";  // sent again on reconnect
  }
}

function takeRefused(msg) {
  // A colleague was faster (or the patient left): say it plainly, leave the call panel.
  if (msg.session_id && T.sessionId && msg.session_id !== T.sessionId) return;
  T.takeError = msg.code;
  $("take-error").textContent = msg.code === "already-taken"
    ? `Un confrère a déjà pris en charge ce patient${msg.doctor ? " (" + msg.doctor + ")" : ""}. Choisissez un autre patient dans la salle d'attente.`
    : "Ce patient n'est plus en salle d'attente.";
  $("take-error").hidden = false;
  if (T.pc) { T.pc.close(); T.pc = null; }
  T.sessionId = null; T.callActive = false; remember();
  $("call").hidden = true; $("patient").hidden = true;
  $("call-status").textContent = "";
  note("take-refused " + msg.code);
}

async function watchFirstFrame(pc) {
  // For the benchmark: when the first remote video frame is decoded, in page time.
  while (T.pc === pc && T.firstFrameAt === null) {
    const stats = await T.stats();
    if (stats.framesDecoded > 0) { T.firstFrameAt = performance.now(); return; }
    await new Promise((r) => setTimeout(r, 10));
  }
}

function waitGathering(pc, ms) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === "complete") resolve(); };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, ms);
  });
}

async function onOffer(msg) {
  // Every offer, first or "restart", gets a fresh connection with the same camera and microphone.
  if (T.pc) { T.pc.close(); T.pc = null; }
  await ensureMedia();
  T.offers += 1;
  const pc = new RTCPeerConnection({
    iceServers: T.config.iceServers, iceTransportPolicy: T.config.iceTransportPolicy,
  });
  T.pc = pc;
  for (const track of T.localStream.getTracks()) pc.addTrack(track, T.localStream);
  const remote = new MediaStream();
  T.exam.tracks = {};
  pc.ontrack = (e) => {
    // The kiosk's first audio and first video m-lines are the patient's face and voice; any
    // further one is an examination device, named by mid in its "exam-devices" message.
    const sameKind = pc.getTransceivers().filter((t) => t.receiver.track.kind === e.track.kind);
    if (sameKind.indexOf(e.transceiver) > 0) { T.exam.tracks[e.transceiver.mid] = e.track; routeExam(); return; }
    remote.addTrack(e.track); $("remote-video").srcObject = remote;
  };
  pc.ondatachannel = (e) => setupChannel(e.channel);
  pc.onconnectionstatechange = () => {
    note("pc-" + pc.connectionState);
    const shown = { new: "nouvelle", connecting: "connexion…", connected: "en cours",
      disconnected: "connexion instable…", failed: "connexion perdue", closed: "fermée" };
    if (pc === T.pc) $("call-status").textContent = "— " + (shown[pc.connectionState] || pc.connectionState);
  };
  watchFirstFrame(pc);
  await pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
  await pc.setLocalDescription(await pc.createAnswer());
  await waitGathering(pc, 3000);
  send({ type: "answer", sdp: pc.localDescription.sdp });
  if (T.audioOnly) setVideoSending(false);
}

function setupChannel(channel) {
  T.channel = channel;
  channel.onmessage = (e) => { try { onPeer(JSON.parse(e.data), "data-channel"); } catch (err) { note("bad-peer-message"); } };
  channel.onopen = () => {
    note("channel-open");
    // Each new connection (a rejoin, a reload) hears her switches again: the kiosk forgets
    // them when the connection is lost (docs/call.md, "The doctor's own switches").
    const audio = T.localStream && T.localStream.getAudioTracks()[0];
    const video = T.localStream && T.localStream.getVideoTracks()[0];
    if (audio && video && (!audio.enabled || !video.enabled)) {
      sendPeer({ type: "media", muted: !audio.enabled, camera_off: !video.enabled, audio_only: T.audioOnly });
    }
  };
}

function addChat(sender, text) {
  T.chat.push({ sender, text });
  const li = document.createElement("li");
  li.className = sender;
  li.textContent = (sender === "patient" ? "Patient : " : "Vous : ") + text;
  $("chat-log").appendChild(li);
}

function setVideoSending(on) {
  if (!T.pc) return;
  const video = T.localStream.getVideoTracks()[0];
  for (const sender of T.pc.getSenders()) {
    if (sender.track === video || (sender.track === null && !on)) sender.replaceTrack(on ? video : null);
    else if (on && sender.track === null) sender.replaceTrack(video);
  }
}

function onPeer(msg, via) {
  if (msg.type === "text") addChat("patient", msg.text);
  else if (msg.type === "media") {
    T.remoteMedia = msg;
    const parts = [];
    if (msg.muted) parts.push("micro du patient coupé");
    if (msg.camera_off) parts.push("caméra du patient coupée");
    if (msg.audio_only) parts.push("audio seul (qualité faible)");
    $("remote-media").textContent = parts.join(" · ");
    if (msg.audio_only !== T.audioOnly) { T.audioOnly = msg.audio_only; setVideoSending(!msg.audio_only); }
  } else if (msg.type === "exam-devices") examDevices(msg);
  else if (msg.type === "exam-still-taken") stillTaken(msg);
  else if (msg.type === "bye") endCall("patient", false);
}

// ---- what the doctor receives, told to the kiosk each second (docs/call-network.md) ---------
// The kiosk decides what it sends (its video ladder, audio-only) on what the doctor sees: the
// frames decoded of the patient's face over the last second, the packets lost, the freezes.

async function reportReceived() {
  const pc = T.pc, channel = T.channel;
  if (!pc || !channel || channel.readyState !== "open") return;
  const face = pc.getTransceivers().find((t) => t.receiver.track && t.receiver.track.kind === "video");
  if (!face) return;
  let video = null;
  (await face.receiver.getStats()).forEach((s) => { if (s.type === "inbound-rtp") video = s; });
  const now = performance.now();
  const cur = video ? { frames: video.framesDecoded || 0, lost: Math.max(0, video.packetsLost || 0),
    received: video.packetsReceived || 0, freeze: video.totalFreezesDuration || 0 } : null;
  const prev = T.received && T.received.pc === pc ? T.received : null;
  T.received = { pc, at: now, cur };
  if (!prev || !prev.cur || !cur || cur.frames < prev.cur.frames) return;
  const seconds = (now - prev.at) / 1000;
  if (seconds <= 0.2) return;
  const lost = cur.lost - prev.cur.lost, got = cur.received - prev.cur.received;
  const expectVideo = !T.audioOnly && !(T.remoteMedia && (T.remoteMedia.camera_off || T.remoteMedia.audio_only));
  const report = { type: "receiver-report",
    fps: expectVideo ? Math.min(240, Math.round(((cur.frames - prev.cur.frames) / seconds) * 10) / 10) : null,
    loss: lost > 0 && lost + got > 0 ? Math.min(1, lost / (lost + got)) : 0,
    freeze_s: Math.max(0, Math.min(3600, cur.freeze - prev.cur.freeze)) };
  channel.send(JSON.stringify(report));
}
setInterval(() => { reportReceived().catch(() => note("report-failed")); }, 1000);

// ---- the examination: stethoscope and otoscope --------------------------------------------

function examDevices(msg) {
  T.exam.mids = { stethoscope: msg.stethoscope_mid || "", otoscope: msg.otoscope_mid || "" };
  T.exam.on = { stethoscope: !!msg.stethoscope_on, otoscope: !!msg.otoscope_on };
  const has = { stethoscope: !!T.exam.mids.stethoscope, otoscope: !!T.exam.mids.otoscope };
  $("exam").hidden = !(has.stethoscope || has.otoscope);
  $("stetho-toggle").hidden = !has.stethoscope;
  $("stetho-toggle").textContent = T.exam.on.stethoscope ? "Couper le stéthoscope" : "Activer le stéthoscope";
  $("otoscope-toggle").hidden = !has.otoscope;
  $("otoscope-toggle").textContent = T.exam.on.otoscope ? "Couper l'otoscope" : "Activer l'otoscope";
  $("exam-layout").hidden = !T.exam.on.otoscope;
  $("still").hidden = !has.otoscope; $("still").disabled = !T.exam.on.otoscope;
  $("exam-video").hidden = !T.exam.on.otoscope;
  if (!T.exam.on.otoscope) setOtoscopeLarge(false);
  const parts = [];
  if (T.exam.on.stethoscope) parts.push("stéthoscope en écoute");
  if (T.exam.on.otoscope) parts.push("otoscope affiché");
  $("exam-status").textContent = parts.join(" · ");
  routeExam();
}

function routeExam() {
  const steth = T.exam.tracks[T.exam.mids.stethoscope];
  const oto = T.exam.tracks[T.exam.mids.otoscope];
  if (steth && (!$("stetho-audio").srcObject || $("stetho-audio").srcObject.getTracks()[0] !== steth)) {
    $("stetho-audio").srcObject = new MediaStream([steth]);
  }
  if (oto && (!$("exam-video").srcObject || $("exam-video").srcObject.getTracks()[0] !== oto)) {
    $("exam-video").srcObject = new MediaStream([oto]);
  }
}

function setOtoscopeLarge(large) {
  T.exam.large = large;
  document.querySelector(".videos").classList.toggle("otoscope-large", large);
  $("exam-layout").textContent = large ? "Otoscope à côté du visage" : "Otoscope en grand";
  // In large mode the otoscope takes the face's place; beside, both are shown.
  if (large) $("remote-video").parentNode.appendChild($("exam-video"));
  else $("exam").insertBefore($("exam-video"), $("stills"));
}

function switchExam(device) {
  sendPeer({ type: "exam-switch", device, on: !T.exam.on[device] });
}

function takeStill() {
  T.exam.requests += 1;
  const requestId = `${T.sessionId}-still-${T.exam.requests}`;
  const li = document.createElement("li"); li.dataset.request = requestId; li.dataset.state = "pending";
  li.textContent = `Photo ${T.exam.requests} (en cours…)`;
  $("stills").appendChild(li);
  T.exam.stills.push({ requestId, state: "pending", li });
  sendPeer({ type: "exam-still", request_id: requestId });
}

const STILL_REASONS = { "otoscope-off": "l'otoscope est coupé", "no-otoscope": "pas d'otoscope dans cette cabine",
  "encode-failed": "l'image n'a pas pu être enregistrée" };

function stillTaken(msg) {
  const still = T.exam.stills.find((s) => s.requestId === msg.request_id);
  if (!still) return;
  still.state = msg.accepted === false ? "refused" : "kept";
  still.stillId = msg.still_id;
  still.li.dataset.state = still.state;
  const n = T.exam.stills.indexOf(still) + 1;
  still.li.textContent = still.state === "kept"
    ? `Photo ${n} (gardée dans le dossier de la consultation)`
    : `Photo ${n} (non prise : ${STILL_REASONS[msg.reason] || msg.reason})`;
}

// For the tests: the stethoscope's received spectrum (max over `ms`), and the otoscope's picture.
T.stethoSpectrum = async function (ms) {
  const stream = $("stetho-audio").srcObject;
  if (!stream) return null;
  const ctx = new AudioContext({ sampleRate: 48000 });
  await ctx.resume();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 16384; analyser.smoothingTimeConstant = 0;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const bins = new Float32Array(analyser.frequencyBinCount), peak = new Float32Array(1024).fill(-200);
  const end = performance.now() + ms;
  while (performance.now() < end) {
    await new Promise((r) => setTimeout(r, 40));
    analyser.getFloatFrequencyData(bins);
    for (let i = 0; i < peak.length; i += 1) if (bins[i] > peak[i]) peak[i] = bins[i];
  }
  await ctx.close();
  return { binHz: ctx.sampleRate / analyser.fftSize, db: Array.from(peak, (v) => (Number.isFinite(v) ? v : -200)) };
};

T.otoscopePicture = function () {
  const video = $("exam-video");
  if (!video.videoWidth) return null;
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth; canvas.height = video.videoHeight;
  const g = canvas.getContext("2d"); g.drawImage(video, 0, 0);
  const at = (x, y) => Array.from(g.getImageData(x, y, 1, 1).data.slice(0, 3));
  return { width: canvas.width, height: canvas.height,
    centre: at(Math.floor(canvas.width * 0.4), Math.floor(canvas.height / 2)),
    rim: at(Math.floor(canvas.width / 2), Math.floor(canvas.height * 0.1)) };
};

T.examStats = async function () {
  const out = {};
  if (!T.pc) return out;
  (await T.pc.getStats()).forEach((s) => {
    if (s.type === "inbound-rtp" && s.mid !== undefined) {
      out[s.mid] = { kind: s.kind, framesDecoded: s.framesDecoded || 0, frameWidth: s.frameWidth || 0,
        totalAudioEnergy: s.totalAudioEnergy || 0, packetsReceived: s.packetsReceived || 0 };
    }
  });
  return out;
};

function onSignal(msg) {
  switch (msg.type) {
    case "me": break;
    case "waiting": renderWaiting(msg.patients); break;
    case "online": renderOnline(msg.doctors); break;
    case "patient":
      if (msg.session_id === T.sessionId) {
        // This call's own TURN credential, minted by the platform when the patient was taken.
        if (Array.isArray(msg.iceServers)) T.config = { ...T.config, iceServers: msg.iceServers };
        renderPatient(msg);
      }
      break;
    case "offer": onOffer(msg).catch((e) => note("offer-failed " + e)); break;
    case "candidate":
      if (T.pc && msg.candidate) T.pc.addIceCandidate({ candidate: msg.candidate, sdpMid: msg.sdpMid, sdpMLineIndex: msg.sdpMLineIndex }).catch(() => {});
      break;
    case "peer-left": note("kiosk-left"); $("call-status").textContent = "— la cabine s'est déconnectée, attente…"; break;
    case "document-ack": documentAcknowledged(msg); break;
    case "error":
      note("error " + msg.code); T.lastError = msg.code;
      if (msg.code === "already-taken" || msg.code === "no-such-patient") takeRefused(msg);
      break;
    default: onPeer(msg, "signalling");
  }
}

function endCall(by, notify) {
  if (notify) { const bye = { type: "bye", reason: "hangup" }; sendPeer(bye); if (T.channel && T.channel.readyState === "open") send(bye); }
  if (T.pc) { T.pc.close(); T.pc = null; }
  T.channel = null; T.ended = true; T.endedBy = by; T.callActive = false;
  remember();
  $("call-status").textContent = by === "patient" ? "— terminé par le patient" : "— terminé";
  $("remote-video").srcObject = null;
  note("ended-" + by);
}

// ---- documents: "(envoyé)" only once the kiosk has it ---------------------------------------

const DOC_STATES = {
  pending: "(envoi en cours…)", sent: "(envoyé)", refused: "(refusé par la cabine)",
  unconfirmed: "(non confirmé par la cabine : renvoyez-le)", offline: "(non envoyé : connexion à la plateforme perdue)",
};

function showDocument(id) {
  const doc = T.documents[id];
  if (doc && doc.li) { doc.li.textContent = `${doc.title} ${DOC_STATES[doc.state]}`; doc.li.dataset.state = doc.state; }
}

let docCounter = 0;
function sendDocument(event) {
  event.preventDefault();
  docCounter += 1;
  const doc = { type: "document", kind: $("doc-kind").value, title: $("doc-title").value,
    text: $("doc-text").value, document_id: `${T.sessionId}-doc-${docCounter}` };
  const li = document.createElement("li"); li.dataset.document = doc.document_id; $("doc-sent").appendChild(li);
  const sent = send(doc);  // documents always go through the platform, which keeps them
  T.documents[doc.document_id] = { title: doc.title, state: sent ? "pending" : "offline", li };
  showDocument(doc.document_id);
  if (sent) {
    setTimeout(() => {
      const d = T.documents[doc.document_id];
      if (d && d.state === "pending") { d.state = "unconfirmed"; showDocument(doc.document_id); }
    }, ACK_TIMEOUT_MS);
  }
  $("doc-title").value = ""; $("doc-text").value = "";
}

function documentAcknowledged(msg) {
  const doc = T.documents[msg.document_id];
  if (!doc) return;
  doc.state = msg.accepted === false ? "refused" : "sent";
  if (doc.state === "sent" && !T.documentsSent.includes(msg.document_id)) T.documentsSent.push(msg.document_id);
  showDocument(msg.document_id);
}

function toggleTrack(kind, button, onLabel, offLabel) {
  const track = T.localStream && T.localStream.getTracks().find((t) => t.kind === kind);
  if (!track) return;
  track.enabled = !track.enabled;
  button.textContent = track.enabled ? onLabel : offLabel;
  const audio = T.localStream.getAudioTracks()[0], video = T.localStream.getVideoTracks()[0];
  sendPeer({ type: "media", muted: !audio.enabled, camera_off: !video.enabled, audio_only: T.audioOnly });
}

// Figures for the tests and for a developer's console: received frame rate and audio energy.
T.stats = async function () {
  const out = { framesDecoded: 0, framesPerSecond: 0, totalAudioEnergy: 0, audioLevel: 0,
    packetsLost: 0, packetsReceived: 0, rtt: null, candidateType: null, frameWidth: 0, codec: null };
  if (!T.pc) return out;
  const report = await T.pc.getStats();
  const byId = {};
  report.forEach((s) => { byId[s.id] = s; });
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") {
      out.framesDecoded = s.framesDecoded || 0; out.framesPerSecond = s.framesPerSecond || 0;
      out.frameWidth = s.frameWidth || 0; out.codec = byId[s.codecId] ? byId[s.codecId].mimeType : null;
    }
    if (s.type === "inbound-rtp") { out.packetsLost += s.packetsLost || 0; out.packetsReceived += s.packetsReceived || 0; }
    if (s.type === "inbound-rtp" && s.kind === "audio") { out.totalAudioEnergy = s.totalAudioEnergy || 0; out.audioLevel = s.audioLevel || 0; }
    if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") {
      out.rtt = s.currentRoundTripTime ?? null;
      const local = byId[s.localCandidateId]; out.candidateType = local ? local.candidateType : null;
    }
  });
  return out;
};

$("login-form").addEventListener("submit", login);
$("logout").onclick = async () => {
  T.loggingOut = true;
  await fetch("/console/api/logout", { method: "POST", headers: { Authorization: `Bearer ${T.token}` } }).catch(() => null);
  T.token = null; remember();
  if (T.ws) T.ws.close();
  location.reload();
};
$("arrival-dismiss").onclick = clearArrivals;
$("hangup").onclick = () => endCall("doctor", true);
$("mute").onclick = () => toggleTrack("audio", $("mute"), "Couper le micro", "Rétablir le micro");
$("camera").onclick = () => toggleTrack("video", $("camera"), "Couper la caméra", "Rétablir la caméra");
$("chat-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = $("chat-input").value.trim();
  if (!text) return;
  sendPeer({ type: "text", text, sender: "doctor" });
  addChat("doctor", text);
  $("chat-input").value = "";
});
$("document-form").addEventListener("submit", sendDocument);
$("stetho-toggle").onclick = () => switchExam("stethoscope");
$("otoscope-toggle").onclick = () => switchExam("otoscope");
$("exam-layout").onclick = () => setOtoscopeLarge(!T.exam.large);
$("still").onclick = takeStill;
setInterval(() => { if (T.waiting.length) renderWaitingTimes(); }, 30000);
function renderWaitingTimes() {
  for (const p of T.waiting) {
    const cell = document.querySelector(`#waiting tr[data-session="${CSS.escape(p.session_id)}"] small`);
    if (cell) cell.textContent = waitedFor(p.since);
  }
}
resumeAfterReload().catch((err) => note("resume-failed " + err));
