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

export const speechEnginesInstalled = ['espeak-ng', 'pocketsphinx_continuous', 'ffmpeg'].every(
  onPath,
);
