// Frontdesk dashboard: the jitter buffer of live call audio.
//
// This file is loaded twice: as an AudioWorklet module (where
// registerProcessor exists, it registers "jitter-buffer") and as a plain
// script of the page, where JitterBuffer serves the ScriptProcessor
// fallback of browsers without AudioWorklet (pages not served over HTTPS
// or from localhost).
"use strict";

// JitterBuffer holds PCM16 frames as they arrive from the network and plays
// them at the audio clock. It starts (and restarts after running dry) only
// once targetMs are buffered, so network jitter up to that much does not
// click; when more than maxMs pile up (a burst after a stall, or clock
// drift) it drops the oldest audio down to targetMs, so the delay stays
// small. inRate is the frames' rate; outRate the audio clock's: a linear
// interpolation bridges the two.
class JitterBuffer {
  constructor(inRate, outRate, targetMs = 120, maxMs = 400) {
    this.inRate = inRate;
    this.step = inRate / outRate;
    this.target = Math.round(inRate * targetMs / 1000);
    this.max = Math.round(inRate * maxMs / 1000);
    this.buf = new Float32Array(this.max + inRate); // room for a second's burst over max
    this.r = 0; // read index
    this.size = 0; // samples buffered
    this.frac = 0; // position between buf[r] and buf[r+1]
    this.playing = false;
    this.underruns = 0;
    this.dropped = 0; // samples dropped for being late
    this.received = 0; // samples received
  }

  // push appends one frame of little-endian PCM16 (an Int16Array).
  push(pcm) {
    const cap = this.buf.length;
    for (let i = 0; i < pcm.length; i++) {
      if (this.size === cap) { // full: the oldest sample goes
        this.r = (this.r + 1) % cap;
        this.size--;
        this.dropped++;
      }
      this.buf[(this.r + this.size) % cap] = pcm[i] / 32768;
      this.size++;
    }
    this.received += pcm.length;
    if (this.size > this.max) {
      const n = this.size - this.target;
      this.r = (this.r + n) % cap;
      this.size -= n;
      this.dropped += n;
    }
  }

  // pull fills out (Float32Array) with the next samples at the output
  // rate, or silence while buffering.
  pull(out) {
    const cap = this.buf.length;
    let i = 0;
    if (!this.playing && this.size >= this.target) this.playing = true;
    if (this.playing) {
      for (; i < out.length; i++) {
        if (this.size < 2) { // ran dry: buffer up again
          this.playing = false;
          this.underruns++;
          break;
        }
        const a = this.buf[this.r], b = this.buf[(this.r + 1) % cap];
        out[i] = a + (b - a) * this.frac;
        this.frac += this.step;
        while (this.frac >= 1) {
          this.frac -= 1;
          this.r = (this.r + 1) % cap;
          this.size--;
        }
      }
    }
    out.fill(0, i);
  }

  // clear forgets the buffered audio (a new call).
  clear() {
    this.size = 0;
    this.frac = 0;
    this.playing = false;
  }

  stats() {
    const ms = (n) => Math.round(n * 1000 / this.inRate);
    return {
      state: this.playing ? "playing" : "buffering",
      bufferedMs: ms(this.size),
      underruns: this.underruns,
      droppedMs: ms(this.dropped),
      receivedMs: ms(this.received),
    };
  }
}

if (typeof registerProcessor === "function") {
  // JitterProcessor plays a JitterBuffer in the audio thread. The page
  // posts frames (ArrayBuffers of PCM16) or "clear" to its port; it posts
  // the buffer's stats back about ten times a second.
  class JitterProcessor extends AudioWorkletProcessor {
    constructor(options) {
      super();
      const o = options.processorOptions || {};
      this.jb = new JitterBuffer(o.rate || 16000, sampleRate, o.targetMs, o.maxMs);
      this.lastStats = 0;
      this.port.onmessage = (e) => {
        if (e.data === "clear") this.jb.clear();
        // PCM16 little-endian, which is every browser's byte order; an odd
        // trailing byte is ignored.
        else if (e.data instanceof ArrayBuffer) this.jb.push(new Int16Array(e.data, 0, e.data.byteLength >> 1));
      };
    }

    process(inputs, outputs) {
      const out = outputs[0];
      this.jb.pull(out[0]);
      for (let c = 1; c < out.length; c++) out[c].set(out[0]);
      if (currentTime - this.lastStats >= 0.1) {
        this.lastStats = currentTime;
        this.port.postMessage(this.jb.stats());
      }
      return true;
    }
  }
  registerProcessor("jitter-buffer", JitterProcessor);
}
