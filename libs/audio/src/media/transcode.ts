import { runProcess } from './run-process';

export type OutputFormat = 'wav' | 'mp3' | 'opus';

const ENCODERS: Record<OutputFormat, string[]> = {
  wav: ['-f', 'wav', '-c:a', 'pcm_s16le'],
  mp3: ['-f', 'mp3', '-c:a', 'libmp3lame', '-q:a', '4'],
  opus: ['-f', 'ogg', '-c:a', 'libopus', '-b:a', '32k'],
};

/** Any audio ffmpeg reads, as 16 kHz mono 16-bit WAV (what pocketsphinx expects). */
export async function toSpeechWav(audio: Buffer, timeoutMs: number, signal?: AbortSignal) {
  const { stdout } = await runProcess(
    'ffmpeg',
    [
      '-nostdin',
      '-loglevel',
      'error',
      '-i',
      'pipe:0',
      '-ar',
      '16000',
      '-ac',
      '1',
      ...ENCODERS.wav,
      'pipe:1',
    ],
    { input: audio, timeoutMs, signal },
  );
  return stdout;
}

/** WAV into the requested format (WAV passes through untouched). */
export async function encode(
  wav: Buffer,
  format: OutputFormat,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Buffer> {
  if (format === 'wav') return wav;
  const { stdout } = await runProcess(
    'ffmpeg',
    ['-nostdin', '-loglevel', 'error', '-i', 'pipe:0', ...ENCODERS[format], 'pipe:1'],
    { input: wav, timeoutMs, signal },
  );
  return stdout;
}

/** Duration of a RIFF/WAVE buffer from its header, in ms (0 when it cannot be read). */
export function wavDurationMs(wav: Buffer): number {
  if (wav.length < 44 || wav.toString('ascii', 0, 4) !== 'RIFF') return 0;
  const byteRate = wav.readUInt32LE(28);
  // Streamed WAV (ffmpeg to a pipe) leaves the size fields unset: count the bytes instead.
  let dataSize = wav.length - 44;
  for (let at = 12; at + 8 <= wav.length;) {
    const id = wav.toString('ascii', at, at + 4);
    const size = wav.readUInt32LE(at + 4);
    if (id === 'data') {
      dataSize = Math.min(size, wav.length - at - 8);
      break;
    }
    at += 8 + size + (size % 2);
  }
  return byteRate > 0 ? Math.round((dataSize / byteRate) * 1000) : 0;
}
