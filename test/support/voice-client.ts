import { WebSocket } from 'ws';

export interface VoiceEvent {
  type: string;
  [key: string]: any;
}

export interface AudioFrame {
  sequence: number;
  samples: Int16Array;
  receivedAt: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/**
 * A voice client as an app would write one: opens /v1/voice with a bearer token, sends
 * session.start and microphone audio in real time (20 ms chunks of PCM16), and records the
 * server's JSON events and binary audio frames with their arrival times.
 */
export class VoiceClient {
  readonly events: (VoiceEvent & { receivedAt: number })[] = [];
  readonly frames: AudioFrame[] = [];
  closed?: { code: number; reason: string };
  /** Called with each audio frame as it arrives (to echo it back, say). */
  onFrame?: (frame: AudioFrame) => void;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const receivedAt = Date.now();
      if (isBinary) {
        const samples = new Int16Array((data.length - 4) >> 1);
        for (let i = 0; i < samples.length; i++) samples[i] = data.readInt16LE(4 + i * 2);
        const frame = { sequence: data.readUInt32BE(0), samples, receivedAt };
        this.frames.push(frame);
        this.onFrame?.(frame);
      } else this.events.push({ ...(JSON.parse(String(data)) as VoiceEvent), receivedAt });
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: String(reason) }));
  }

  static connect(url: string, token: string): Promise<VoiceClient> {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
    const client = new VoiceClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  send(message: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  /** session.start, then waits for session.started. */
  async start(options: Record<string, unknown> = {}): Promise<VoiceEvent> {
    this.send({ type: 'session.start', ...options });
    return this.waitFor((e) => e.type === 'session.started' || e.type === 'error');
  }

  /** Streams samples in real time (or as fast as possible), in chunks of `chunkMs`. */
  async stream(
    samples: Int16Array,
    options: { sampleRate?: number; chunkMs?: number; realtime?: boolean } = {},
  ): Promise<number> {
    const rate = options.sampleRate ?? 16_000;
    const chunkMs = options.chunkMs ?? 20;
    const perChunk = Math.round((rate * chunkMs) / 1000);
    const started = Date.now();
    for (let i = 0, at = 0; at < samples.length; i++, at += perChunk) {
      if (this.ws.readyState !== this.ws.OPEN) break;
      const chunk = samples.subarray(at, at + perChunk);
      this.ws.send(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      if (options.realtime !== false) await sleep(started + (i + 1) * chunkMs - Date.now());
    }
    return Date.now();
  }

  /** Silence in real time, for `ms`. */
  silence(ms: number, sampleRate = 16_000): Promise<number> {
    return this.stream(new Int16Array(Math.round((sampleRate * ms) / 1000)), { sampleRate });
  }

  /**
   * An open microphone: 20 ms chunks in real time until stopped, carrying what `hear` mixed in
   * (speech, an echo, `inMs` from now) and silence otherwise, as a client that streams all the
   * time would.
   */
  microphone(): { hear(samples: Int16Array, inMs?: number): void; stop(): void } {
    const chunk = 320;
    let pending: number[] = [];
    const started = Date.now();
    let tick = 0;
    let stopped = false;
    const send = () => {
      if (stopped || this.ws.readyState !== this.ws.OPEN) return;
      const out = Int16Array.from({ length: chunk }, (_, i) =>
        Math.max(-32768, Math.min(32767, Math.round(pending[i] ?? 0))),
      );
      pending = pending.slice(chunk);
      this.ws.send(Buffer.from(out.buffer));
      tick++;
      setTimeout(send, Math.max(0, started + tick * 20 - Date.now()));
    };
    send();
    return {
      hear: (samples, inMs = 0) => {
        // Position relative to the next chunk to go out (which is sent at the next tick).
        const at = Math.max(0, Math.round((inMs - (started + tick * 20 - Date.now())) * 16));
        while (pending.length < at + samples.length) pending.push(0);
        for (let i = 0; i < samples.length; i++) pending[at + i]! += samples[i]!;
      },
      stop: () => {
        stopped = true;
      },
    };
  }

  async waitFor(
    predicate: (event: VoiceEvent) => boolean,
    timeoutMs = 20_000,
  ): Promise<VoiceEvent & { receivedAt: number }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(predicate);
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(
          `no such voice event in ${timeoutMs} ms; got: ${this.events
            .map((e) =>
              e.type === 'error' ? `error ${e.error?.code}: ${e.error?.detail}` : e.type,
            )
            .join(', ')}`,
        );
      await sleep(20);
    }
  }

  async waitForClose(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await sleep(20);
    if (!this.closed) throw new Error('the socket did not close');
    return this.closed;
  }

  close(): void {
    this.ws.close();
  }
}
