import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClientMessage, ServerEvent, voiceProtocolSchema } from './voice-protocol';

const SCHEMA_FILE = join(__dirname, '../../../../docs/voice-protocol.schema.json');

describe('voice protocol', () => {
  it('fills in the defaults of a bare session.start', () => {
    expect(ClientMessage.parse({ type: 'session.start' })).toEqual({
      type: 'session.start',
      audio: { encoding: 'pcm16', sampleRate: 16000, channels: 1 },
      output: { sampleRate: 16000 },
    });
  });

  it('says what is wrong with a bad message', () => {
    const result = ClientMessage.safeParse({
      type: 'session.start',
      audio: { sampleRate: 44100, channels: 2 },
      language: 'english!',
      extra: true,
    });
    expect(result.success).toBe(false);
    const messages = result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        'audio.sampleRate: audio.sampleRate must be one of 8000, 16000, 24000, 48000',
        expect.stringMatching(/^audio\.channels: /),
        'language: language must be a BCP 47 tag like en or en-US',
        expect.stringMatching(/extra/),
      ]),
    );
    expect(ClientMessage.safeParse({ type: 'hello' }).success).toBe(false);
  });

  it('describes every server event it sends', () => {
    expect(
      ServerEvent.safeParse({
        type: 'response.interrupted',
        responseId: 'r',
        messageId: null,
        spokenText: 'Your parcel',
        lastSequence: 12,
      }).success,
    ).toBe(true);
  });

  it('is published as docs/voice-protocol.schema.json', () => {
    const schema = `${JSON.stringify(voiceProtocolSchema(), null, 2)}\n`;
    // PARLEY_WRITE_SCHEMAS=1 npm test -- voice-protocol rewrites the file after a change.
    if (process.env.PARLEY_WRITE_SCHEMAS === '1') writeFileSync(SCHEMA_FILE, schema);
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(schema);
  });
});
