import { z } from 'zod';

/** Input sample rates a session accepts; audio is resampled to the VAD's 16 kHz. */
export const INPUT_SAMPLE_RATES = [8000, 16_000, 24_000, 48_000] as const;
export const OUTPUT_SAMPLE_RATES = [8000, 16_000, 22_050, 24_000, 48_000] as const;

const rate = <T extends readonly number[]>(rates: T, what: string) =>
  z
    .number()
    .refine((v) => (rates as readonly number[]).includes(v), {
      error: `${what} must be one of ${rates.join(', ')}`,
    })
    .meta({ enum: [...rates] });

/** The first message of a session. Every field has a default. */
export const SessionStart = z
  .strictObject({
    type: z.literal('session.start'),
    audio: z
      .strictObject({
        encoding: z.literal('pcm16').default('pcm16').describe('little-endian signed 16-bit'),
        sampleRate: rate(INPUT_SAMPLE_RATES, 'audio.sampleRate').default(16_000),
        channels: z.literal(1).default(1),
      })
      .default({ encoding: 'pcm16', sampleRate: 16_000, channels: 1 })
      .describe('What the binary frames the client sends hold.'),
    output: z
      .strictObject({
        sampleRate: rate(OUTPUT_SAMPLE_RATES, 'output.sampleRate').default(16_000),
      })
      .default({ sampleRate: 16_000 })
      .describe('The answer is sent as mono PCM16 at this rate.'),
    language: z
      .string()
      .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, {
        error: 'language must be a BCP 47 tag like en or en-US',
      })
      .optional()
      .describe('Language of the caller, for transcription and speech.'),
    voice: z.string().min(1).max(64).optional().describe('Voice of the answer (engine-specific).'),
    conversationId: z
      .uuid({ error: 'conversationId must be a UUID' })
      .optional()
      .describe(
        'Bind to this conversation (also accepted as ?conversationId=); else one is created.',
      ),
    model: z.string().min(1).max(200).optional().describe('Chat model for the answers.'),
    maxTokens: z.int().min(1).max(32_000).optional(),
  })
  .describe('Starts the session. Must be the first message; binary audio frames may follow.');
export type SessionStart = z.infer<typeof SessionStart>;

export const SessionEnd = z
  .strictObject({ type: z.literal('session.end') })
  .describe('Ends the session; the server closes with 1000.');
export const ResponseCancel = z
  .strictObject({ type: z.literal('response.cancel') })
  .describe('Stops the answer being given, as a barge-in would.');

export const ClientMessage = z.discriminatedUnion('type', [
  SessionStart,
  SessionEnd,
  ResponseCancel,
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    code: z.string(),
  })
  .loose()
  .describe('The same problem+json body HTTP errors carry.');

/** Everything the server sends as JSON text frames. Audio goes in binary frames. */
export const ServerEvent = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('session.started'),
    sessionId: z.string(),
    conversationId: z.uuid(),
    audio: z.strictObject({ sampleRate: z.number(), frameMs: z.number() }),
    output: z.strictObject({ sampleRate: z.number(), frameMs: z.number() }),
  }),
  z.strictObject({
    type: z.literal('vad.speech_started'),
    atMs: z.number().describe('ms of input audio since the session started'),
  }),
  z.strictObject({ type: z.literal('vad.speech_stopped'), atMs: z.number() }),
  z
    .strictObject({ type: z.literal('transcript.partial'), text: z.string() })
    .describe('Not sent by the current engines, which transcribe whole utterances.'),
  z.strictObject({ type: z.literal('transcript.final'), text: z.string() }),
  z.strictObject({ type: z.literal('response.started'), responseId: z.string() }),
  z.strictObject({
    type: z.literal('response.text.delta'),
    responseId: z.string(),
    delta: z.string(),
  }),
  z
    .strictObject({
      type: z.literal('response.audio'),
      responseId: z.string(),
      firstSequence: z.int().describe('sequence number of the first binary frame of this sentence'),
      text: z.string().describe('the sentence the frames speak'),
    })
    .describe(
      'Announces the binary frames of one sentence. Each binary frame: 4-byte big-endian sequence number, then PCM16 samples.',
    ),
  z.strictObject({
    type: z.literal('response.done'),
    responseId: z.string(),
    messageId: z.string().nullable(),
    text: z.string(),
    status: z.string().describe('the stored message status: complete, failed, …'),
  }),
  z.strictObject({
    type: z.literal('response.interrupted'),
    responseId: z.string(),
    messageId: z.string().nullable(),
    spokenText: z
      .string()
      .describe('what was played before the interruption; the message now holds this'),
    lastSequence: z.int().describe('the last binary frame sent; drop anything queued after it'),
  }),
  z
    .strictObject({ type: z.literal('response.paused'), responseId: z.string() })
    .describe('Speech over the answer: audio stops until it is known to be an interruption.'),
  z
    .strictObject({ type: z.literal('response.resumed'), responseId: z.string() })
    .describe(
      'That speech was not an interruption (too short, a backchannel, or echo): audio goes on.',
    ),
  z.strictObject({ type: z.literal('error'), error: problem }),
]);
export type ServerEvent = z.infer<typeof ServerEvent>;

/** The protocol as one JSON Schema document (docs/voice-protocol.schema.json). */
export function voiceProtocolSchema(): Record<string, unknown> {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://parley.dev/schemas/voice-protocol.schema.json',
    title: 'Parley realtime voice protocol (GET /v1/voice, WebSocket)',
    description:
      'JSON text frames both ways, each with a `type`. The client sends session.start first, then binary frames of audio (PCM16, little-endian, mono, at audio.sampleRate). The server answers with the events below, and the answer audio as binary frames: a 4-byte big-endian sequence number followed by PCM16 samples at output.sampleRate.',
    $defs: {
      clientMessage: withoutDialect(z.toJSONSchema(ClientMessage, { io: 'input' })),
      serverEvent: withoutDialect(z.toJSONSchema(ServerEvent)),
    },
  };
}

/** A sub-schema without its own $schema (the document's applies). */
function withoutDialect(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}
