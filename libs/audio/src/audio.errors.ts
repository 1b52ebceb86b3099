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

/** The client reads too slowly to keep up with real-time audio. */
export class SlowClientError extends AppError {
  constructor(seconds: number) {
    super(
      'VOICE_CLIENT_TOO_SLOW',
      408,
      `The client left audio unread for ${seconds} s; it must read the socket as fast as it plays.`,
    );
  }
}

/** The tenant already holds as many voice sessions as it may. */
export class TooManyVoiceSessionsError extends AppError {
  constructor(limit: number) {
    super(
      'TOO_MANY_VOICE_SESSIONS',
      429,
      `This tenant already has ${limit} voice sessions open (VOICE_MAX_SESSIONS_PER_TENANT); close one and try again.`,
    );
  }
}

export class TextTooLongError extends AppError {
  constructor(length: number, limit: number) {
    super(
      'TEXT_TOO_LONG',
      413,
      `The text has ${length} characters, more than the ${limit} allowed (AUDIO_MAX_TEXT_CHARS); split it.`,
    );
  }
}

/** A job's audio asked for before it exists (or of a job that has none). */
export class AudioNotReadyError extends AppError {
  constructor(status: string, hasOutput: boolean) {
    super(
      'AUDIO_NOT_READY',
      409,
      status === 'failed'
        ? 'The job failed; it has no audio.'
        : hasOutput || status !== 'completed'
          ? `The job is ${status}; its audio is not ready yet.`
          : 'This job has no audio (a transcription returns text).',
    );
  }
}

export class AudioIdempotencyKeyReusedError extends AppError {
  constructor() {
    super(
      'IDEMPOTENCY_KEY_REUSED',
      422,
      'This Idempotency-Key was used for a different request; use a new key for a new job.',
    );
  }
}

export class VoiceDisabledError extends AppError {
  constructor() {
    super('NOT_FOUND', 404, 'Voice sessions are turned off here (VOICE_ENABLED).');
  }
}

export class InvalidVoiceConversationError extends AppError {
  constructor() {
    super('VALIDATION_FAILED', 400, 'conversationId must be a UUID.');
  }
}

/** A frame that breaks the voice protocol; `errors` names the fields when there are any. */
export class VoiceProtocolError extends AppError {
  constructor(message: string, errors?: { field: string; messages: string[] }[]) {
    super('VOICE_PROTOCOL', 400, message, errors ? { extensions: { errors } } : {});
  }
}

export class VoiceScopesError extends AppError {
  constructor() {
    super('FORBIDDEN', 403, 'A voice session needs an API key with the chat and audio scopes.');
  }
}

/** A voice session closed by one of its timers (idle, maximum length). */
export class VoiceSessionExpiredError extends AppError {
  constructor(code: string, message: string) {
    super(code, 408, message);
  }
}

export class InvalidVoiceError extends AppError {
  constructor(voice: string) {
    super(
      'INVALID_VOICE',
      400,
      `espeak-ng has no voice "${voice}"; use a language name such as en, en-us, de, fr or es.`,
      { extensions: { field: 'voice' } },
    );
  }
}

export class SpeechProviderRejectedError extends AppError {
  constructor(status: number, message: string) {
    super(
      'SPEECH_PROVIDER_REJECTED',
      422,
      `The speech provider refused the request (HTTP ${status}): ${message}`,
    );
  }
}

export class UnsupportedLanguageError extends AppError {
  constructor(language: string | undefined) {
    super(
      'UNSUPPORTED_LANGUAGE',
      422,
      `The local recognizer (pocketsphinx) understands English only, not "${language}"; configure an OpenAI-compatible speech provider for other languages.`,
      { extensions: { field: 'language' } },
    );
  }
}
