import { AudioTooLongError, AudioTooShortError, ProviderUnavailableError } from '../audio.errors';
import { probeAudio } from './audio-probe';
import { runProcess } from './run-process';
import { wavDurationMs } from './transcode';
import { toneWav } from '../../../../test/support/audio';

const wav = (ms: number) => toneWav(ms / 1000, 0);

const limits = { maxDurationSeconds: 10, minDurationMs: 200 };

describe('audio probing and engines', () => {
  it('reads the format from the bytes and the duration from the header', async () => {
    await expect(probeAudio(wav(1500), limits)).resolves.toMatchObject({
      format: 'wav',
      contentType: 'audio/wav',
      durationMs: 1500,
    });
    expect(wavDurationMs(wav(2500))).toBe(2500);
  });

  it('refuses audio outside the duration bounds, and empty files', async () => {
    await expect(probeAudio(wav(11_000), limits)).rejects.toBeInstanceOf(AudioTooLongError);
    await expect(probeAudio(wav(100), limits)).rejects.toBeInstanceOf(AudioTooShortError);
    await expect(probeAudio(Buffer.alloc(0), limits)).rejects.toBeInstanceOf(AudioTooShortError);
  });

  it('reports a missing engine as PROVIDER_UNAVAILABLE and a failing one with its exit', async () => {
    await expect(
      runProcess('parley-no-such-engine', [], { timeoutMs: 1000 }),
    ).rejects.toBeInstanceOf(ProviderUnavailableError);
    await expect(
      runProcess(process.execPath, ['-e', 'process.exit(3)'], { timeoutMs: 5000 }),
    ).rejects.toThrow(/exited with 3/);
    await expect(
      runProcess(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { timeoutMs: 200 }),
    ).rejects.toThrow(/timeout 200 ms/);
    const echo = await runProcess(process.execPath, ['-e', 'process.stdin.pipe(process.stdout)'], {
      input: Buffer.from('spoken'),
      timeoutMs: 5000,
    });
    expect(echo.stdout.toString()).toBe('spoken');
  });
});
