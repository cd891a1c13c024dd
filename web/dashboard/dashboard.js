// Frontdesk supervisor dashboard: sign in with a business key, watch the
// live calls (GET v1/live, a WebSocket), listen to one (GET
// v1/calls/{id}/listen: PCM16 frames into a jitter buffer, transcript
// events), whisper, transfer or end it, and browse past calls with their
// recording and transcript. docs/supervisors.md is the protocol.
//
// The key stays in sessionStorage and only ever travels in an
// Authorization header; WebSockets get a short-lived token in their URL.
//
// window.dashboard is a small read-only hook for tests and for the curious:
// level() is the call audio's RMS now (0–1, measured by an AnalyserNode
// after the jitter buffer), peak() the highest since listening started,
// audio() the jitter buffer's state, state() the page's.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const KEY = "frontdesk.key";
  const RATE = 16000; // listen at 16 kHz mono: wideband, 32 kB/s
  const api = (path) => new URL(path, document.baseURI).toString();
  const wsURL = (path, token) => {
    const u = new URL(path, document.baseURI);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    u.searchParams.set("token", token);
    return u.toString();
  };

  const page = {
    signedIn: false,
    role: "",
    live: "off", // off | connecting | connected | reconnecting | refused
    liveCalls: [], // ids, in the list's order
    listening: "", // the open live call's id
    callEnded: false,
    transcriptLines: 0, // final lines of the open live call
    detail: "", // the open past call's id
    recording: "none", // none | loading | ready | missing | error
    error: "",
  };
  const audio = {
    state: "off", bufferedMs: 0, underruns: 0, droppedMs: 0, receivedMs: 0,
    serverDroppedFrames: 0, engine: "",
  };
  let key = "";
  let peak = 0;

  // --- API ---------------------------------------------------------------

  class APIError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  // request calls the API with the key: JSON in and out, or the Response
  // itself with raw. Errors carry the server's message.
  async function request(method, path, body, raw = false) {
    const headers = { Authorization: "Bearer " + key };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res;
    try {
      res = await fetch(api(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      throw new APIError(0, "network", "cannot reach the server (" + err.message + ")");
    }
    if (!res.ok) {
      let code = "http_" + res.status, message = res.status + " " + res.statusText;
      try {
        const e = (await res.json()).error;
        if (e) { code = e.code || code; message = e.message || message; }
      } catch (_) { /* not JSON */ }
      throw new APIError(res.status, code, message);
    }
    if (raw) return res;
    const text = await res.text();
    return text && (res.headers.get("Content-Type") || "").includes("json") ? JSON.parse(text) : null;
  }

  async function liveToken() {
    return (await request("POST", "v1/live/tokens", {})).token;
  }

  // --- Page state --------------------------------------------------------

  const statusEl = $("status");
  function setStatus(text, isError = false) {
    statusEl.textContent = text;
    statusEl.classList.toggle("error", isError);
    if (isError) page.error = text;
  }

  function fmtClock(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, ss = String(s % 60).padStart(2, "0");
    return h ? h + ":" + String(m).padStart(2, "0") + ":" + ss : m + ":" + ss;
  }
  function fmtTime(iso) {
    const d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
  }
  function cell(row, text, cls) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    row.append(td);
    return td;
  }
  function button(text, label, onClick, cls) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    if (label) b.setAttribute("aria-label", label);
    if (cls) b.className = cls;
    b.addEventListener("click", onClick);
    return b;
  }

  // --- Sign in -----------------------------------------------------------

  const signinForm = $("signin-form"), keyInput = $("key"), signinError = $("signin-error");

  signinForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const k = keyInput.value.trim();
    if (!k) {
      showSigninError("Enter an API key.");
      keyInput.focus();
      return;
    }
    signIn(k);
  });
  $("signout").addEventListener("click", () => signOut(""));

  function showSigninError(text) {
    signinError.textContent = text;
    signinError.hidden = !text;
    keyInput.setAttribute("aria-invalid", text ? "true" : "false");
    if (text) page.error = text;
  }

  // signIn checks the key by listing past calls (any business key may),
  // then opens the live list.
  async function signIn(k) {
    key = k;
    $("signin-button").disabled = true;
    showSigninError("");
    try {
      const first = await request("GET", "v1/calls?limit=25");
      sessionStorage.setItem(KEY, k);
      page.signedIn = true;
      page.error = "";
      keyInput.value = "";
      $("signin").hidden = true;
      $("app").hidden = false;
      $("signout").hidden = false;
      const who = $("who");
      who.textContent = "Key " + (k.split("_")[1] || "");
      who.hidden = false;
      setStatus("Signed in.");
      showPast(first, false);
      connectLive(0);
    } catch (err) {
      key = "";
      sessionStorage.removeItem(KEY);
      showSigninError(err.status === 401 || err.status === 403 ? "Sign-in refused: " + err.message : "Cannot sign in: " + err.message);
      keyInput.focus();
    } finally {
      $("signin-button").disabled = false;
    }
  }

  function signOut(reason) {
    sessionStorage.removeItem(KEY);
    key = "";
    page.signedIn = false;
    stopListening();
    closeLive();
    closeDetail();
    $("live-list").replaceChildren();
    $("past-list").replaceChildren();
    $("app").hidden = true;
    $("signout").hidden = true;
    $("who").hidden = true;
    $("signin").hidden = false;
    showSigninError(reason);
    keyInput.focus();
  }

  // --- Live calls --------------------------------------------------------

  const liveCalls = new Map(); // id → CallInfo
  let liveWS = null, liveRetry = 0, liveTimer = 0;

  function setLive(s, text) {
    page.live = s;
    const b = $("live-conn");
    b.textContent = text || s;
    b.dataset.state = s;
  }

  async function connectLive(attempt) {
    clearTimeout(liveTimer);
    if (!key) return;
    setLive(attempt ? "reconnecting" : "connecting");
    let token;
    try {
      token = await liveToken();
    } catch (err) {
      if (err.status === 401) return signOut("Your key is no longer valid: " + err.message);
      if (err.status === 403) {
        setLive("refused", "not allowed");
        setStatus("Live calls need a supervisor or owner key: " + err.message, true);
        return;
      }
      if (err.status === 404) { // a server without live calls
        setLive("refused", "not available");
        return;
      }
      return retryLive(attempt);
    }
    if (!key) return;
    const ws = new WebSocket(wsURL("v1/live", token));
    liveWS = ws;
    ws.onopen = () => { liveRetry = 0; setLive("connected"); };
    ws.onmessage = (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch (_) { return; }
      onLive(m);
    };
    ws.onclose = () => {
      if (liveWS !== ws) return; // closed on purpose
      liveWS = null;
      retryLive(attempt);
    };
  }

  function retryLive(attempt) {
    if (!key) return;
    const wait = Math.min(15000, 1000 * 2 ** Math.min(attempt, 4));
    setLive("reconnecting", "reconnecting in " + Math.round(wait / 1000) + " s");
    liveTimer = setTimeout(() => connectLive(attempt + 1), wait);
  }

  function closeLive() {
    clearTimeout(liveTimer);
    const ws = liveWS;
    liveWS = null;
    if (ws) ws.close(1000);
    liveCalls.clear();
    setLive("off");
  }

  function onLive(m) {
    switch (m.type) {
      case "snapshot":
        liveCalls.clear();
        for (const c of m.calls || []) liveCalls.set(c.id, c);
        break;
      case "call.started":
      case "call.updated":
        if (m.call && m.call.id) liveCalls.set(m.call.id, m.call);
        break;
      case "call.ended":
        liveCalls.delete(m.call_id);
        schedulePastRefresh();
        break;
      default:
        return;
    }
    renderLive();
  }

  function renderLive() {
    const list = $("live-list");
    const calls = [...liveCalls.values()].sort((a, b) => a.started_at < b.started_at ? -1 : 1);
    page.liveCalls = calls.map((c) => c.id);
    const rows = calls.map((c) => {
      const tr = document.createElement("tr");
      tr.dataset.id = c.id;
      if (c.id === page.listening) tr.className = "open";
      cell(tr, c.from || "unknown");
      cell(tr, fmtClock(Date.now() - new Date(c.started_at)), "mono duration").dataset.started = c.started_at;
      cell(tr, c.state || "");
      cell(tr, c.transport === "webrtc" ? "browser" : "phone");
      const td = cell(tr, "");
      td.append(button(c.id === page.listening ? "Listening" : "Listen", "Listen to the call from " + (c.from || "unknown"),
        () => listen(c), "small"));
      return tr;
    });
    list.replaceChildren(...rows);
    $("live-empty").hidden = rows.length > 0;
  }

  // Durations tick once a second without rebuilding the rows.
  setInterval(() => {
    for (const td of document.querySelectorAll("#live-list .duration")) {
      td.textContent = fmtClock(Date.now() - new Date(td.dataset.started));
    }
  }, 1000);

  // --- Listening ---------------------------------------------------------

  let ctx = null, analyser = null, gain = null, player = null, listenWS = null;
  let levelTimer = 0;
  const levelBuf = new Float32Array(2048);

  // audioGraph builds player → gain → analyser → speakers once: an
  // AudioWorklet jitter buffer, or a ScriptProcessor running the same
  // JitterBuffer where worklets are unavailable.
  async function audioGraph() {
    if (ctx) {
      await ctx.resume().catch(() => {});
      return;
    }
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) throw new Error("this browser has no Web Audio");
    try {
      ctx = new Ctx({ sampleRate: RATE, latencyHint: "interactive" });
    } catch (_) {
      ctx = new Ctx(); // the buffer resamples
    }
    gain = ctx.createGain();
    gain.gain.value = Number($("volume").value);
    analyser = ctx.createAnalyser();
    analyser.fftSize = levelBuf.length;
    gain.connect(analyser);
    analyser.connect(ctx.destination);
    const opts = { rate: RATE, targetMs: 120, maxMs: 400 };
    if (ctx.audioWorklet) {
      await ctx.audioWorklet.addModule("dashboard/jitter.js");
      const node = new AudioWorkletNode(ctx, "jitter-buffer", { numberOfInputs: 0, outputChannelCount: [1], processorOptions: opts });
      node.port.onmessage = (e) => Object.assign(audio, e.data);
      player = {
        node,
        push: (buf) => node.port.postMessage(buf, [buf]),
        clear: () => node.port.postMessage("clear"),
      };
      audio.engine = "worklet";
    } else {
      const jb = new JitterBuffer(RATE, ctx.sampleRate, opts.targetMs, opts.maxMs);
      const node = ctx.createScriptProcessor(1024, 0, 1);
      node.onaudioprocess = (e) => {
        jb.pull(e.outputBuffer.getChannelData(0));
        Object.assign(audio, jb.stats());
      };
      player = {
        node,
        push: (buf) => jb.push(new Int16Array(buf, 0, buf.byteLength >> 1)),
        clear: () => jb.clear(),
      };
      audio.engine = "scriptprocessor";
    }
    player.node.connect(gain);
    await ctx.resume().catch(() => {});
    levelTimer = setInterval(showLevel, 100);
  }

  function level() {
    if (!analyser || !page.listening) return 0;
    analyser.getFloatTimeDomainData(levelBuf);
    let sum = 0;
    for (const v of levelBuf) sum += v * v;
    return Math.sqrt(sum / levelBuf.length);
  }

  function showLevel() {
    const l = level();
    peak = Math.max(peak, l);
    const m = $("level");
    m.value = Math.min(1, l * 4);
    m.textContent = l > 0.01 ? "sound" : "silent";
    $("buffer").textContent = page.listening
      ? `${audio.state} · buffer ${audio.bufferedMs} ms · underruns ${audio.underruns} · dropped ${audio.droppedMs} ms here, ${audio.serverDroppedFrames} frames at the server`
      : "buffer —";
  }

  $("volume").addEventListener("input", (e) => { if (gain) gain.gain.value = Number(e.target.value); });

  async function listen(c) {
    if (page.listening === c.id && listenWS) return;
    stopListening();
    page.listening = c.id;
    page.callEnded = false;
    page.transcriptLines = 0;
    peak = 0;
    audio.serverDroppedFrames = 0;
    $("call").hidden = false;
    $("call-title").textContent = "Call from " + (c.from || "unknown");
    $("call-state").textContent = "Connecting…";
    $("live-transcript").replaceChildren();
    setActionsEnabled(true);
    renderLive();
    try {
      await audioGraph();
      player.clear();
      const token = await liveToken();
      if (page.listening !== c.id) return; // another call was opened meanwhile
      const ws = new WebSocket(wsURL("v1/calls/" + encodeURIComponent(c.id) + "/listen?format=pcm16&channels=1&rate=" + RATE, token));
      ws.binaryType = "arraybuffer";
      listenWS = ws;
      ws.onmessage = (e) => {
        if (typeof e.data !== "string") {
          player.push(e.data);
          return;
        }
        let m;
        try { m = JSON.parse(e.data); } catch (_) { return; }
        onCallEvent(m);
      };
      ws.onclose = (e) => {
        if (listenWS !== ws) return;
        listenWS = null;
        if (!page.callEnded) {
          $("call-state").textContent = "Disconnected" + (e.code && e.code !== 1000 ? " (" + e.code + ")" : "") + ".";
          setActionsEnabled(false);
        }
      };
      $("call").scrollIntoView({ block: "nearest" });
    } catch (err) {
      setStatus("Cannot listen: " + err.message, true);
      $("call-state").textContent = "Not connected.";
    }
  }

  function stopListening() {
    const ws = listenWS;
    listenWS = null;
    if (ws) ws.close(1000);
    if (player) player.clear();
    page.listening = "";
    $("call").hidden = true;
    renderLive();
  }
  $("stop").addEventListener("click", stopListening);

  function setActionsEnabled(on) {
    for (const el of document.querySelectorAll("#whisper-form input, #whisper-form button, #transfer-form input, #transfer-form button, #hangup")) {
      el.disabled = !on;
    }
    disarmHangup();
  }

  const transcriptEl = $("live-transcript");
  const speakers = { caller: "Caller", agent: "Agent", system: "System", supervisor: "You" };

  // line adds (or, for a partial, updates) a transcript line; a final
  // replaces its speaker's partial.
  function line(speaker, text, t, opts = {}) {
    const atEnd = transcriptEl.scrollHeight - transcriptEl.scrollTop - transcriptEl.clientHeight < 40;
    let li = [...transcriptEl.querySelectorAll("li.partial")].find((x) => x.dataset.speaker === speaker);
    if (!li) {
      li = document.createElement("li");
      transcriptEl.append(li);
    }
    li.dataset.speaker = speaker;
    li.className = speaker + (opts.partial ? " partial" : "") + (opts.note ? " note" : "");
    const time = document.createElement("span");
    time.className = "t mono";
    time.textContent = t === undefined ? "" : fmtClock(t);
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = (speakers[speaker] || speaker) + ":";
    li.replaceChildren(time, who, document.createTextNode(" " + text + (opts.interrupted ? " —" : "")));
    if (opts.interrupted) li.title = "interrupted by the caller";
    if (!opts.partial && !opts.note) page.transcriptLines++;
    if (atEnd) transcriptEl.scrollTop = transcriptEl.scrollHeight;
  }

  function onCallEvent(m) {
    switch (m.type) {
      case "hello":
        $("call-state").textContent = "Listening.";
        break;
      case "transcript.partial":
        line(m.speaker, m.text, m.t, { partial: true });
        break;
      case "transcript.final":
        line(m.speaker, m.text, m.t, { interrupted: m.interrupted });
        break;
      case "agent.state":
        $("call-state").textContent = "Listening · agent " + m.state + ".";
        break;
      case "tool.call":
        line("system", "tool " + m.name, m.t, { note: true });
        break;
      case "barge_in":
        line("system", "the caller interrupted", m.t, { note: true });
        break;
      case "whisper":
        line("supervisor", "(whisper) " + m.text, m.t, { note: true });
        break;
      case "transfer":
        line("system", "transfer to " + m.to, m.t, { note: true });
        break;
      case "dtmf":
        line("system", "keys " + m.digits, m.t, { note: true });
        break;
      case "dropped":
        audio.serverDroppedFrames += m.frames || 0;
        break;
      case "call.ended":
        page.callEnded = true;
        line("system", "call ended (" + (m.outcome || "ended") + ")", m.t, { note: true });
        $("call-state").textContent = "The call has ended.";
        setActionsEnabled(false);
        schedulePastRefresh();
        break;
    }
  }

  // --- Actions -----------------------------------------------------------

  async function act(what, body, done) {
    const id = page.listening;
    if (!id) return;
    try {
      await request("POST", "v1/calls/" + encodeURIComponent(id) + "/" + what, body);
      setStatus(done);
      return true;
    } catch (err) {
      setStatus(what + " failed: " + err.message, true);
      return false;
    }
  }

  $("whisper-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = $("whisper"), text = input.value.trim();
    if (!text) { input.focus(); return; }
    if (await act("whisper", { text }, "Whisper sent to the agent.")) input.value = "";
  });

  $("transfer-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const to = $("transfer-to").value.trim();
    await act("transfer", to ? { to } : {}, "Transferring the call" + (to ? " to " + to : "") + ".");
  });

  // Ending a call takes two clicks (or two key presses): the first arms the
  // button for 4 seconds.
  const hangupBtn = $("hangup");
  let hangupTimer = 0;
  function disarmHangup() {
    clearTimeout(hangupTimer);
    hangupBtn.textContent = "End call";
    hangupBtn.classList.remove("armed");
  }
  hangupBtn.addEventListener("click", async () => {
    if (!hangupBtn.classList.contains("armed")) {
      hangupBtn.classList.add("armed");
      hangupBtn.textContent = "Confirm: end the call";
      hangupTimer = setTimeout(disarmHangup, 4000);
      return;
    }
    disarmHangup();
    await act("hangup", undefined, "Ending the call.");
  });

  // --- Past calls --------------------------------------------------------

  let nextCursor = "", pastTimer = 0;

  function showPast(res, append) {
    const list = $("past-list");
    const rows = (res.items || []).map((c) => {
      const tr = document.createElement("tr");
      tr.dataset.id = c.id;
      cell(tr, fmtTime(c.started_at));
      cell(tr, c.from || "unknown");
      cell(tr, c.ended_at ? fmtClock(new Date(c.ended_at) - new Date(c.started_at)) : "", "mono");
      cell(tr, c.outcome || "live", "outcome");
      const td = cell(tr, "");
      td.append(button("Open", "Open the call from " + (c.from || "unknown") + " at " + fmtTime(c.started_at), () => openDetail(c), "small"));
      return tr;
    });
    if (append) list.append(...rows);
    else list.replaceChildren(...rows);
    nextCursor = res.next_cursor || "";
    $("more").hidden = !nextCursor;
    $("past-empty").hidden = list.children.length > 0;
  }

  async function loadPast(append) {
    try {
      const q = "v1/calls?limit=25" + (append && nextCursor ? "&cursor=" + encodeURIComponent(nextCursor) : "");
      showPast(await request("GET", q), append);
    } catch (err) {
      if (err.status === 401) return signOut("Your key is no longer valid: " + err.message);
      setStatus("Cannot list past calls: " + err.message, true);
    }
  }

  // A call's record is final a moment after it ends.
  function schedulePastRefresh() {
    clearTimeout(pastTimer);
    pastTimer = setTimeout(() => loadPast(false), 1000);
  }

  $("refresh").addEventListener("click", () => loadPast(false));
  $("more").addEventListener("click", () => loadPast(true));

  const playerEl = $("player");
  let blobURL = "";

  function closeDetail() {
    page.detail = "";
    page.recording = "none";
    playerEl.pause();
    playerEl.removeAttribute("src");
    playerEl.hidden = true;
    if (blobURL) URL.revokeObjectURL(blobURL);
    blobURL = "";
    $("detail").hidden = true;
  }

  async function openDetail(c) {
    closeDetail();
    page.detail = c.id;
    $("detail").hidden = false;
    $("detail-title").textContent = "Call from " + (c.from || "unknown");
    $("detail-meta").textContent = fmtTime(c.started_at) + (c.ended_at ? " · " + fmtClock(new Date(c.ended_at) - new Date(c.started_at)) : "") +
      " · " + (c.outcome || "live") + (c.hold ? " · under legal hold" : "");
    $("past-transcript").replaceChildren();
    $("player-note").textContent = "";
    for (const tr of document.querySelectorAll("#past-list tr")) tr.classList.toggle("open", tr.dataset.id === c.id);
    await Promise.all([loadRecording(c), loadTranscript(c)]);
    $("detail").scrollIntoView({ block: "nearest" });
  }

  // The recording needs the key in a header, so it is fetched whole and
  // played from a blob: URL; the audio element can then seek freely.
  async function loadRecording(c) {
    const note = $("player-note");
    if (!c.recording) {
      page.recording = "missing";
      note.textContent = "No recording (not recorded, opted out, expired or deleted).";
      return;
    }
    page.recording = "loading";
    note.textContent = "Loading the recording…";
    try {
      const res = await request("GET", "v1/calls/" + encodeURIComponent(c.id) + "/recording", undefined, true);
      const blob = await res.blob();
      if (page.detail !== c.id) return;
      blobURL = URL.createObjectURL(blob);
      playerEl.src = blobURL;
      playerEl.hidden = false;
      page.recording = "ready";
      note.textContent = "Stereo: the caller on the left, the agent on the right.";
    } catch (err) {
      if (page.detail !== c.id) return;
      page.recording = err.status === 404 ? "missing" : "error";
      note.textContent = err.status === 404 ? "No recording." : "Cannot load the recording: " + err.message;
    }
  }

  async function loadTranscript(c) {
    const ol = $("past-transcript");
    if (!c.transcript) {
      ol.replaceChildren(noteItem("No transcript."));
      return;
    }
    try {
      const tr = await request("GET", "v1/calls/" + encodeURIComponent(c.id) + "/transcript?format=json");
      if (page.detail !== c.id) return;
      const items = (tr.turns || []).map((turn) => {
        const li = document.createElement("li");
        li.className = turn.speaker;
        const seek = button(fmtClock(turn.start_ms), "Play from " + fmtClock(turn.start_ms), () => {
          if (!playerEl.src) return;
          playerEl.currentTime = turn.start_ms / 1000;
          playerEl.play().catch(() => {});
        }, "t mono link");
        const who = document.createElement("span");
        who.className = "who";
        who.textContent = (speakers[turn.speaker] || turn.speaker) + ":";
        li.append(seek, who, document.createTextNode(" " + turn.text + (turn.interrupted ? " —" : "")));
        return li;
      });
      ol.replaceChildren(...(items.length ? items : [noteItem("The transcript is empty.")]));
    } catch (err) {
      if (page.detail !== c.id) return;
      ol.replaceChildren(noteItem(err.status === 404 ? "No transcript." : "Cannot load the transcript: " + err.message));
    }
  }

  function noteItem(text) {
    const li = document.createElement("li");
    li.className = "note";
    li.textContent = text;
    return li;
  }

  // --- Start -------------------------------------------------------------

  window.dashboard = Object.freeze({
    level,
    peak: () => peak,
    audio: () => ({ ...audio }),
    state: () => ({ ...page, liveCalls: [...page.liveCalls] }),
  });

  const saved = sessionStorage.getItem(KEY);
  if (saved) signIn(saved);
  else keyInput.focus();
})();
