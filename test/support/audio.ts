import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A 16 kHz mono PCM16 WAV of `seconds` of a quiet tone (or silence): a valid clip of any length. */
export function toneWav(seconds: number, hz = 220): Buffer {
  const rate = 16_000;
  const samples = Math.round(seconds * rate);
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write('WAVEfmt ', 8, 'ascii');
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20);
  wav.writeUInt16LE(1, 22);
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++)
    wav.writeInt16LE(
      hz ? Math.round(3000 * Math.sin((2 * Math.PI * hz * i) / rate)) : 0,
      44 + i * 2,
    );
  return wav;
}

/** Whether a command is on PATH (the speech engines come from Debian packages). */
export function onPath(command: string): boolean {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .some((dir) => dir && existsSync(join(dir, command)));
}

export const speechEnginesInstalled = [
  'espeak-ng',
  'pocketsphinx_continuous',
  'ffmpeg',
  'sox',
].every(onPath);

/**
 * `text` spoken by espeak-ng, as 16 kHz mono PCM16 samples (sox converts espeak's 22.05 kHz),
 * optionally with silence around it. Needs espeak-ng and sox (speechEnginesInstalled).
 */
export function spokenPcm(
  text: string,
  options: { silenceBeforeMs?: number; silenceAfterMs?: number; rate?: number } = {},
): Int16Array {
  const rate = options.rate ?? 16_000;
  const wav = execFileSync('espeak-ng', ['--stdout', text]);
  const raw = execFileSync(
    'sox',
    [
      '-t',
      'wav',
      '-',
      '-r',
      String(rate),
      '-c',
      '1',
      '-b',
      '16',
      '-e',
      'signed-integer',
      '-t',
      'raw',
      '-',
    ],
    { input: wav },
  );
  const speech = new Int16Array(raw.buffer, raw.byteOffset, raw.length >> 1);
  const before = Math.round(((options.silenceBeforeMs ?? 0) * rate) / 1000);
  const after = Math.round(((options.silenceAfterMs ?? 0) * rate) / 1000);
  const out = new Int16Array(before + speech.length + after);
  out.set(speech, before);
  return out;
}
