import { AppError } from '@parley/core';

export class AudioTooLargeError extends AppError {
  constructor(limit: number) {
    super(
      'AUDIO_TOO_LARGE',
      413,
      `The audio is larger than ${limit} bytes (AUDIO_MAX_UPLOAD_BYTES); send a shorter or more compressed file.`,
    );
  }
}

export class UnsupportedAudioError extends AppError {
  constructor(seen: string) {
    super(
      'UNSUPPORTED_MEDIA_TYPE',
      415,
      `The file is not audio Parley can read (${seen}); send wav, flac, mp3, ogg/opus, webm or m4a.`,
    );
  }
}

export class AudioTooLongError extends AppError {
  constructor(seconds: number, limit: number) {
    super(
      'AUDIO_TOO_LONG',
      422,
      `The audio lasts ${seconds.toFixed(1)} s, longer than the ${limit} s allowed (AUDIO_MAX_DURATION_SECONDS); split it.`,
    );
  }
}

export class AudioTooShortError extends AppError {
  constructor(ms: number | undefined, limit: number) {
    super(
      'AUDIO_TOO_SHORT',
      422,
      ms === undefined
        ? 'The audio holds no sound that could be read (no duration); send a recording with speech.'
        : `The audio lasts ${Math.round(ms)} ms, shorter than the ${limit} ms needed (AUDIO_MIN_DURATION_MS).`,
    );
  }
}

/** A speech engine or provider that is not installed or not configured here. */
export class ProviderUnavailableError extends AppError {
  constructor(what: string) {
    super('PROVIDER_UNAVAILABLE', 503, what, { logLevel: 'warn' });
  }
}

/** An engine ran but failed (or timed out): the job may pass on a retry. */
export class EngineFailedError extends Error {
  readonly code = 'ENGINE_FAILED';
}
