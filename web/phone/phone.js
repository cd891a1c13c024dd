// Frontdesk softphone: one WebRTC call to a business's receptionist.
// Signaling is a single POST of the complete offer (ICE gathered first) to
// v1/webrtc/offer; hanging up is a DELETE of the returned location.
//
// window.frontdesk exposes the call's state for tests and embedding pages:
// {state, callId, level, peak, error}. level is the receptionist's audio
// level now (RMS, 0–1), peak the highest since the call connected.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const form = $("dial"), businessInput = $("business"), callBtn = $("call"), hangupBtn = $("hangup");
  const statusEl = $("status"), levelEl = $("level"), remoteAudio = $("remote");
  const transcriptEl = $("transcript"), transcriptEmpty = $("transcript-empty");

  const api = (path) => new URL(path, document.baseURI).toString();
  const state = { state: "idle", callId: "", level: 0, peak: 0, error: "" };
  window.frontdesk = state;

  let pc = null, mic = null, callURL = "", audioCtx = null, meterTimer = 0, events = null;

  const params = new URLSearchParams(window.location.search);
  if (params.get("business")) {
    businessInput.value = params.get("business");
    businessInput.readOnly = true; // fixed by the link
  }

  function setStatus(text, isError = false) {
    statusEl.textContent = text;
    statusEl.classList.toggle("error", isError);
  }

  function setState(s, text, isError = false) {
    state.state = s;
    if (text) setStatus(text, isError);
    const busy = s === "calling" || s === "connected";
    callBtn.disabled = busy;
    hangupBtn.disabled = !busy;
    if (!params.get("business")) businessInput.readOnly = busy;
  }

  // addTranscript shows one turn; the server's event stream (when it has
  // one) sends {speaker, text, partial}.
  function addTranscript(turn) {
    transcriptEmpty.hidden = true;
    let li = transcriptEl.lastElementChild;
    if (!li || !li.classList.contains("partial") || li.dataset.speaker !== turn.speaker) {
      li = document.createElement("li");
      transcriptEl.append(li);
    }
    li.dataset.speaker = turn.speaker;
    li.classList.toggle("partial", !!turn.partial);
    li.replaceChildren();
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = turn.speaker === "agent" ? "Receptionist:" : "You:";
    li.append(who, document.createTextNode(turn.text));
  }

  function watchLevel(stream) {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    audioCtx = audioCtx || new Ctx();
    audioCtx.resume().catch(() => {});
    const analyser = audioCtx.createAnalyser();
    analyser.fftSize = 2048;
    audioCtx.createMediaStreamSource(stream).connect(analyser);
    const buf = new Float32Array(analyser.fftSize);
    clearInterval(meterTimer);
    meterTimer = setInterval(() => {
      analyser.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const v of buf) sum += v * v;
      state.level = Math.sqrt(sum / buf.length);
      state.peak = Math.max(state.peak, state.level);
      levelEl.value = Math.min(1, state.level * 4);
      levelEl.textContent = state.level > 0.01 ? "speaking" : "silent";
    }, 50);
  }

  function gathered(conn, timeoutMs) {
    if (conn.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { conn.removeEventListener("icegatheringstatechange", check); resolve(); };
      const check = () => { if (conn.iceGatheringState === "complete") done(); };
      conn.addEventListener("icegatheringstatechange", check);
      setTimeout(done, timeoutMs); // answer with what we have
    });
  }

  async function errorMessage(resp) {
    let msg = `The call could not be placed (${resp.status}).`;
    try {
      const body = await resp.json();
      if (body && body.error && body.error.message) msg = body.error.message;
    } catch (_) { /* not JSON */ }
    if (resp.status === 404) msg = "We could not find that business. Check the link.";
    if (resp.status === 429) {
      const wait = resp.headers.get("Retry-After");
      msg = `Too many calls right now. Please try again${wait ? ` in ${wait} seconds` : " later"}.`;
    }
    return msg;
  }

  async function call() {
    const business = businessInput.value.trim();
    if (!business) {
      setStatus("Enter the business to call.", true);
      businessInput.focus();
      return;
    }
    state.peak = 0; state.level = 0; state.error = ""; state.callId = "";
    setState("calling", "Asking for your microphone…");
    // Created inside the click so that the browser lets it play.
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx && !audioCtx) audioCtx = new Ctx();
    try {
      // Echo cancellation keeps the receptionist from hearing itself through
      // the caller's speakers. Automatic gain control stays off: it pumps
      // and clips speech enough that the server's recogniser loses words
      // (measured in the Chromium test), and the server levels audio itself.
      mic = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: false },
      });
    } catch (err) {
      fail("The microphone is needed for the call. Allow it in your browser and try again.", err);
      return;
    }
    try {
      setStatus("Calling…");
      let iceServers = [];
      try {
        const r = await fetch(api("v1/webrtc/ice-servers"));
        if (r.ok) iceServers = (await r.json()).ice_servers || [];
      } catch (_) { /* host candidates will do */ }
      pc = new RTCPeerConnection({ iceServers });
      for (const track of mic.getAudioTracks()) pc.addTrack(track, mic);
      pc.addEventListener("track", (ev) => {
        const stream = ev.streams[0] || new MediaStream([ev.track]);
        remoteAudio.srcObject = stream;
        remoteAudio.play().catch(() => {});
        watchLevel(stream);
      });
      pc.addEventListener("connectionstatechange", () => {
        if (!pc) return;
        switch (pc.connectionState) {
          case "connected": setState("connected", "Connected. Speak when you are ready."); break;
          case "disconnected": setStatus("The connection is unstable…"); break;
          case "failed": end("The call was lost.", true); break;
          case "closed": end("Call ended."); break;
        }
      });
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, 3000);
      const resp = await fetch(api("v1/webrtc/offer"), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sdp: pc.localDescription.sdp, type: "offer", business }),
      });
      if (!resp.ok) {
        fail(await errorMessage(resp));
        return;
      }
      const answer = await resp.json();
      state.callId = answer.call_id;
      callURL = api(answer.location || `v1/webrtc/calls/${answer.call_id}`);
      await pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
      setStatus("Connecting…");
      if (answer.events_url && window.EventSource) {
        // Live transcript, once the server offers it.
        events = new EventSource(api(answer.events_url));
        events.addEventListener("message", (ev) => {
          try { addTranscript(JSON.parse(ev.data)); } catch (_) { /* ignore */ }
        });
      }
    } catch (err) {
      fail("The call could not be placed.", err);
    }
  }

  function cleanup() {
    if (events) { events.close(); events = null; }
    if (pc) { const p = pc; pc = null; p.close(); }
    if (mic) { for (const t of mic.getTracks()) t.stop(); mic = null; }
    clearInterval(meterTimer);
    state.level = 0;
    levelEl.value = 0;
    levelEl.textContent = "silent";
    remoteAudio.srcObject = null;
  }

  function end(text, isError = false) {
    cleanup();
    setState(isError ? "error" : "ended", text, isError);
  }

  function fail(text, err) {
    state.error = err ? String(err) : text;
    end(text, true);
  }

  async function hangup() {
    const loc = callURL;
    callURL = "";
    end("Call ended.");
    if (loc) {
      try { await fetch(loc, { method: "DELETE" }); } catch (_) { /* the peer connection is closed anyway */ }
    }
    callBtn.focus();
  }

  form.addEventListener("submit", (ev) => { ev.preventDefault(); call(); });
  hangupBtn.addEventListener("click", hangup);
  window.addEventListener("pagehide", () => {
    if (callURL) fetch(callURL, { method: "DELETE", keepalive: true }).catch(() => {});
    cleanup();
  });
})();
