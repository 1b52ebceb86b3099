import { processorsByQueue } from './queue-worker.host';

describe('processorsByQueue (the boot check of queue processors)', () => {
  const tts = { queue: 'audio.tts' as const, name: 'TtsProcessor', instance: 'tts' };
  const stt = { queue: 'audio.stt' as const, name: 'SttProcessor', instance: 'stt' };
  const other = { name: 'SomeService', instance: 'service' };

  it('gives the one processor of each served queue, and ignores other providers', () => {
    const found = processorsByQueue([tts, stt, other], ['audio.tts']);
    expect([...found]).toEqual([['audio.tts', 'tts']]);
  });

  it('refuses a queue with two processors, naming both', () => {
    const second = { ...tts, name: 'FasterTtsProcessor', instance: 'faster' };
    expect(() => processorsByQueue([tts, second], [])).toThrow(
      'queue audio.tts has 2 processors (TtsProcessor, FasterTtsProcessor)',
    );
  });

  it('counts one class provided by two modules once', () => {
    expect([...processorsByQueue([tts, { ...tts }], ['audio.tts'])]).toHaveLength(1);
  });

  it('refuses to serve a queue whose processor is not loaded, and says what to do', () => {
    expect(() => processorsByQueue([tts], ['audio.tts', 'audio.voice'])).toThrow(
      /serves audio.voice but no processor for it is loaded: import the module that owns it, or leave it out of WORKER_QUEUES/,
    );
  });
});
