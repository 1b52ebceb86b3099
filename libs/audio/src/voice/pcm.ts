/** Mono PCM16 helpers for the realtime loop: no child process on the hot path. */

/** Samples of little-endian PCM16 bytes (a trailing odd byte is dropped). */
export function pcm16Samples(bytes: Buffer): Int16Array {
  const samples = new Int16Array(bytes.length >> 1);
  for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
  return samples;
}

export function pcm16Bytes(samples: Int16Array): Buffer {
  const bytes = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) bytes.writeInt16LE(samples[i]!, i * 2);
  return bytes;
}

/** Linear resampling; enough for speech between the usual telephony and wideband rates. */
export function resample(samples: Int16Array, from: number, to: number): Int16Array {
  if (from === to || samples.length === 0) return samples;
  const length = Math.max(1, Math.round((samples.length * to) / from));
  const out = new Int16Array(length);
  const step = from / to;
  for (let i = 0; i < length; i++) {
    const at = i * step;
    const j = Math.floor(at);
    const a = samples[Math.min(j, samples.length - 1)]!;
    const b = samples[Math.min(j + 1, samples.length - 1)]!;
    out[i] = Math.round(a + (b - a) * (at - j));
  }
  return out;
}

/** A 16-bit mono WAV file of the samples. */
export function wavFile(samples: Int16Array, sampleRate: number): Buffer {
  const data = pcm16Bytes(samples);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/**
 * The mono samples and rate of a PCM16 WAV file (stereo is mixed down), or undefined when it
 * is not one (compressed, float, or not a WAV): the caller converts those with ffmpeg.
 */
export function readWav(file: Buffer): { samples: Int16Array; sampleRate: number } | undefined {
  if (
    file.length < 12 ||
    file.toString('ascii', 0, 4) !== 'RIFF' ||
    file.toString('ascii', 8, 12) !== 'WAVE'
  )
    return undefined;
  let format: { channels: number; sampleRate: number; bits: number; code: number } | undefined;
  for (let at = 12; at + 8 <= file.length;) {
    const id = file.toString('ascii', at, at + 4);
    let size = file.readUInt32LE(at + 4);
    const body = at + 8;
    if (id === 'fmt ' && body + 16 <= file.length) {
      format = {
        code: file.readUInt16LE(body),
        channels: file.readUInt16LE(body + 2),
        sampleRate: file.readUInt32LE(body + 4),
        bits: file.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!format || format.code !== 1 || format.bits !== 16 || format.channels < 1)
        return undefined;
      // Streamed WAVs (espeak-ng --stdout, ffmpeg to a pipe) leave the size unset.
      if (size === 0 || size === 0xffffffff || body + size > file.length) size = file.length - body;
      const interleaved = pcm16Samples(file.subarray(body, body + size));
      if (format.channels === 1) return { samples: interleaved, sampleRate: format.sampleRate };
      const frames = Math.floor(interleaved.length / format.channels);
      const mono = new Int16Array(frames);
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < format.channels; c++) sum += interleaved[i * format.channels + c]!;
        mono[i] = Math.round(sum / format.channels);
      }
      return { samples: mono, sampleRate: format.sampleRate };
    }
    at = body + size + (size & 1);
  }
  return undefined;
}

/**
 * Reads PCM16 from a stream of binary messages whose sizes need not be even: a sample split
 * between two messages is put back together instead of shifting every later one by a byte.
 */
export class Pcm16Reader {
  private carry?: number;

  read(bytes: Buffer): Int16Array {
    let data = bytes;
    if (this.carry !== undefined && bytes.length > 0) {
      data = Buffer.concat([Buffer.from([this.carry]), bytes]);
      this.carry = undefined;
    }
    if (data.length % 2 === 1) this.carry = data[data.length - 1];
    return pcm16Samples(data);
  }
}

/** Collects incoming samples and hands them out in frames of exactly `size`. */
export class FrameBuffer {
  private buffered = new Int16Array(0);

  constructor(private readonly size: number) {}

  push(samples: Int16Array): Int16Array[] {
    const joined = new Int16Array(this.buffered.length + samples.length);
    joined.set(this.buffered);
    joined.set(samples, this.buffered.length);
    const frames: Int16Array[] = [];
    let at = 0;
    for (; at + this.size <= joined.length; at += this.size)
      frames.push(joined.slice(at, at + this.size));
    this.buffered = joined.slice(at);
    return frames;
  }
}
