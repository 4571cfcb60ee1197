// The doctor's console of the reference platform: plain JavaScript, no build.
// State the tests (and a curious developer) can read is kept in window.telecabine.
"use strict";

const $ = (id) => document.getElementById(id);
const T = window.telecabine = {
  token: null, me: null, ws: null, pc: null, channel: null, localStream: null,
  sessionId: null, config: null, chat: [], documentsSent: [], ended: false,
  endedBy: null, events: [], remoteMedia: {}, audioOnly: false, offers: 0,
};

function note(event) { T.events.push({ t: Date.now(), event }); }

function send(obj) {
  if (T.ws && T.ws.readyState === WebSocket.OPEN) T.ws.send(JSON.stringify(obj));
}

function sendPeer(obj) {
  // Chat, media state and bye go on the data channel when it is open; signalling otherwise.
  if (T.channel && T.channel.readyState === "open") T.channel.send(JSON.stringify(obj));
  else send(obj);
}

async function login(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  const response = await fetch("/console/api/login", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ login: $("login").value, password: $("password").value }),
  });
  const body = await response.json();
  if (!response.ok) { $("login-error").textContent = body.error; return; }
  T.token = body.token; T.me = body.doctor;
  $("me-name").textContent = body.doctor.name;
  $("me-rpps").textContent = body.doctor.rpps;
  $("me-specialty").textContent = body.doctor.specialty;
  $("whoami").hidden = false; $("login-view").hidden = true; $("console-view").hidden = false;
  T.config = await (await fetch("/console/api/config")).json();
  connect();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/signalling/doctor?token=${encodeURIComponent(T.token)}`);
  T.ws = ws;
  ws.onmessage = (e) => onSignal(JSON.parse(e.data));
  ws.onclose = () => { note("signalling-closed"); if (T.ws === ws) T.ws = null; };
}

function esc(text) {
  const span = document.createElement("span"); span.textContent = String(text ?? ""); return span.innerHTML;
}

function patientLabel(summary) {
  const id = (summary && summary.identity) || {};
  return id.display_name ? `${id.display_name}` : "(identité non partagée)";
}

function renderWaiting(patients) {
  const body = $("waiting").querySelector("tbody");
  body.innerHTML = "";
  for (const p of patients) {
    const tr = document.createElement("tr");
    tr.dataset.session = p.session_id;
    const busy = p.doctor && p.doctor !== (T.me && T.me.name) && p.status === "in-call";
    tr.innerHTML = `<td>${esc(p.cabin_id)}</td><td>${esc(patientLabel(p.summary))}</td>` +
      `<td class="status">${esc(p.status)}${p.doctor ? " · " + esc(p.doctor) : ""}</td>` +
      `<td>${busy ? "" : `<button class="take" data-session="${esc(p.session_id)}">Prendre en charge</button>`}</td>`;
    body.appendChild(tr);
  }
  for (const b of body.querySelectorAll("button.take")) b.onclick = () => take(b.dataset.session);
}

function renderOnline(doctors) {
  $("online").innerHTML = doctors.map((d) => `<li>${esc(d.name)} · ${esc(d.specialty)}</li>`).join("");
}

const MEASURE_NAMES = { temperature: "Température", spo2: "SpO2", heart_rate: "Pouls",
  systolic: "Systolique", diastolic: "Diastolique", blood_pressure: "Tension" };

function renderPatient(p) {
  const s = p.summary || {};
  const id = s.identity || {}, consent = s.consent || {}, cabin = s.cabin || {};
  const rows = [
    ["Identité", id.display_name], ["Naissance", id.birth_date], ["Sexe", id.sex],
    ["Statut de l'identité", id.status], ["Mode de recueil", id.method],
    ["Consentement téléconsultation", consent.teleconsultation === undefined ? undefined : (consent.teleconsultation ? "oui" : "non")],
    ["Partage des données", consent.data_sharing === undefined ? undefined : (consent.data_sharing ? "oui" : "non")],
    ["Assistance", consent.assistance === undefined ? undefined : (consent.assistance ? "oui" : "non")],
    ["Cabine", [cabin.site, cabin.city, cabin.insee_code && `INSEE ${cabin.insee_code}`].filter(Boolean).join(", ") || p.cabin_id],
  ];
  const orientation = s.orientation || {};
  for (const [q, a] of Object.entries(orientation)) rows.push([`Orientation : ${q}`, typeof a === "object" ? JSON.stringify(a) : a]);
  $("patient-panel").innerHTML = rows.filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("");
  const body = $("measurements").querySelector("tbody");
  body.innerHTML = (s.measurements || []).map((x) =>
    `<tr><td>${esc(MEASURE_NAMES[x.kind] || x.label || x.kind)}</td><td>${esc(x.value)} ${esc(x.unit)}</td>` +
    `<td>${esc(x.at)}</td><td>${esc(x.how === "manual" ? "saisie" : "appareil")}</td></tr>`).join("");
  $("patient").hidden = false;
}

async function take(sessionId) {
  T.sessionId = sessionId; T.ended = false; T.endedBy = null;
  if (!T.localStream) {
    T.localStream = await navigator.mediaDevices.getUserMedia({
      audio: true, video: { width: 640, height: 480, frameRate: 30 },
    });
    $("local-video").srcObject = T.localStream;
  }
  $("call").hidden = false;
  $("call-status").textContent = "— connexion…";
  note("take");
  T.takeAt = performance.now(); T.firstFrameAt = null;
  send({ type: "take", session_id: sessionId });
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
  T.offers += 1;
  const pc = new RTCPeerConnection({
    iceServers: T.config.iceServers, iceTransportPolicy: T.config.iceTransportPolicy,
  });
  T.pc = pc;
  for (const track of T.localStream.getTracks()) pc.addTrack(track, T.localStream);
  const remote = new MediaStream();
  pc.ontrack = (e) => { remote.addTrack(e.track); $("remote-video").srcObject = remote; };
  pc.ondatachannel = (e) => setupChannel(e.channel);
  pc.onconnectionstatechange = () => {
    note("pc-" + pc.connectionState);
    if (pc === T.pc) $("call-status").textContent = "— " + pc.connectionState;
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
  channel.onopen = () => note("channel-open");
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
  } else if (msg.type === "bye") endCall("patient", false);
}

function onSignal(msg) {
  switch (msg.type) {
    case "me": break;
    case "waiting": renderWaiting(msg.patients); break;
    case "online": renderOnline(msg.doctors); break;
    case "patient": if (msg.session_id === T.sessionId) renderPatient(msg); break;
    case "offer": onOffer(msg).catch((e) => note("offer-failed " + e)); break;
    case "candidate":
      if (T.pc && msg.candidate) T.pc.addIceCandidate({ candidate: msg.candidate, sdpMid: msg.sdpMid, sdpMLineIndex: msg.sdpMLineIndex }).catch(() => {});
      break;
    case "peer-left": note("kiosk-left"); $("call-status").textContent = "— la cabine s'est déconnectée, attente…"; break;
    case "error": note("error " + msg.code); break;
    default: onPeer(msg, "signalling");
  }
}

function endCall(by, notify) {
  if (notify) { const bye = { type: "bye", reason: "hangup" }; sendPeer(bye); if (T.channel && T.channel.readyState === "open") send(bye); }
  if (T.pc) { T.pc.close(); T.pc = null; }
  T.channel = null; T.ended = true; T.endedBy = by;
  $("call-status").textContent = by === "patient" ? "— terminé par le patient" : "— terminé";
  $("remote-video").srcObject = null;
  note("ended-" + by);
}

let docCounter = 0;
function sendDocument(event) {
  event.preventDefault();
  docCounter += 1;
  const doc = { type: "document", kind: $("doc-kind").value, title: $("doc-title").value,
    text: $("doc-text").value, document_id: `${T.sessionId}-doc-${docCounter}` };
  send(doc);  // documents always go through the platform, which keeps them
  T.documentsSent.push(doc.document_id);
  const li = document.createElement("li"); li.textContent = `${doc.title} (envoyé)`; $("doc-sent").appendChild(li);
  $("doc-title").value = ""; $("doc-text").value = "";
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
  await fetch("/console/api/logout", { method: "POST", headers: { Authorization: `Bearer ${T.token}` } });
  if (T.ws) T.ws.close();
  location.reload();
};
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
