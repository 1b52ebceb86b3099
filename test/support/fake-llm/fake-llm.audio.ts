/** Synthesised speech: a quiet 440 Hz tone, so voice-activity code sees "audio", not silence. */

const SAMPLE_RATE = 16_000;
const MS_PER_CHARACTER = 50;
const MAX_SECONDS = 10;
const TONE_HZ = 440;
const AMPLITUDE = 0.2 * 0x7fff;

/** Duration grows with the text (50 ms a character, at most 10 s), like real speech would. */
export function speechDurationSeconds(text: string): number {
  return Math.min(MAX_SECONDS, (text.length * MS_PER_CHARACTER) / 1000);
}

/** A 16 kHz mono PCM16 WAV file. */
export function speechWav(text: string): Buffer {
  const samples = Math.round(speechDurationSeconds(text) * SAMPLE_RATE);
  const dataBytes = samples * 2;
  const wav = Buffer.alloc(44 + dataBytes);
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + dataBytes, 4);
  wav.write('WAVE', 8, 'ascii');
  wav.write('fmt ', 12, 'ascii');
  wav.writeUInt32LE(16, 16); // fmt chunk size
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(SAMPLE_RATE, 24);
  wav.writeUInt32LE(SAMPLE_RATE * 2, 28); // byte rate
  wav.writeUInt16LE(2, 32); // block align
  wav.writeUInt16LE(16, 34); // bits per sample
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < samples; i++) {
    const sample = Math.round(AMPLITUDE * Math.sin((2 * Math.PI * TONE_HZ * i) / SAMPLE_RATE));
    wav.writeInt16LE(sample, 44 + i * 2);
  }
  return wav;
}

/** Rough duration of an uploaded clip, assuming 16 kHz PCM16; the fake never decodes audio. */
export function estimatedDurationSeconds(fileBytes: number): number {
  return Math.round((fileBytes / (SAMPLE_RATE * 2)) * 100) / 100;
}
