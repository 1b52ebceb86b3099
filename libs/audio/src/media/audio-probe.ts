import { fileTypeFromBuffer } from 'file-type';
import { parseBuffer } from 'music-metadata';
import { AudioTooLongError, AudioTooShortError, UnsupportedAudioError } from '../audio.errors';

export type AudioFormat = 'wav' | 'flac' | 'mp3' | 'ogg' | 'webm' | 'm4a';

/** What file-type reports, mapped to the formats we accept. */
const ACCEPTED: Record<string, AudioFormat> = {
  wav: 'wav',
  flac: 'flac',
  mp3: 'mp3',
  ogg: 'ogg',
  opus: 'ogg',
  oga: 'ogg',
  webm: 'webm',
  m4a: 'm4a',
  mp4: 'm4a',
};

export const CONTENT_TYPES: Record<AudioFormat | 'opus', string> = {
  wav: 'audio/wav',
  flac: 'audio/flac',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  opus: 'audio/ogg',
  webm: 'audio/webm',
  m4a: 'audio/mp4',
};

export interface ProbedAudio {
  format: AudioFormat;
  contentType: string;
  durationMs: number;
  sampleRate?: number;
  channels?: number;
}

/**
 * Checks an upload before anything is queued: the format from its bytes (never its name), the
 * duration from its headers (music-metadata), within the configured bounds.
 */
export async function probeAudio(
  bytes: Buffer,
  limits: { maxDurationSeconds: number; minDurationMs: number },
): Promise<ProbedAudio> {
  if (bytes.length === 0) throw new AudioTooShortError(undefined, limits.minDurationMs);
  const type = await fileTypeFromBuffer(bytes);
  const format = type ? ACCEPTED[type.ext] : undefined;
  if (!type || !format)
    throw new UnsupportedAudioError(type ? `${type.mime}` : 'no known audio signature');
  let duration: number | undefined;
  let sampleRate: number | undefined;
  let channels: number | undefined;
  try {
    const meta = await parseBuffer(bytes, { mimeType: type.mime }, { duration: true });
    duration = meta.format.duration;
    sampleRate = meta.format.sampleRate;
    channels = meta.format.numberOfChannels;
  } catch {
    duration = undefined;
  }
  if (duration === undefined || !Number.isFinite(duration) || duration <= 0)
    throw new AudioTooShortError(undefined, limits.minDurationMs);
  if (duration > limits.maxDurationSeconds)
    throw new AudioTooLongError(duration, limits.maxDurationSeconds);
  if (duration * 1000 < limits.minDurationMs)
    throw new AudioTooShortError(duration * 1000, limits.minDurationMs);
  return {
    format,
    contentType: CONTENT_TYPES[format],
    durationMs: Math.round(duration * 1000),
    sampleRate,
    channels,
  };
}
