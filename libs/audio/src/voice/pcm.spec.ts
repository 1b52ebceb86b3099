import {
  FrameBuffer,
  Pcm16Reader,
  pcm16Bytes,
  pcm16Samples,
  readWav,
  resample,
  wavFile,
} from './pcm';

describe('PCM helpers', () => {
  it('round-trips samples through bytes and a WAV file', () => {
    const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
    expect(pcm16Samples(pcm16Bytes(samples))).toEqual(samples);
    expect(readWav(wavFile(samples, 22_050))).toEqual({ samples, sampleRate: 22_050 });
  });

  it('mixes stereo down, reads a streamed WAV with no size, refuses what is not PCM16', () => {
    const stereo = wavFile(Int16Array.from([100, 300, -100, -300]), 8000);
    stereo.writeUInt16LE(2, 22); // two channels: the four samples are two frames
    expect(readWav(stereo)).toEqual({ samples: Int16Array.from([200, -200]), sampleRate: 8000 });
    const streamed = wavFile(Int16Array.from([5, 6, 7]), 16_000);
    streamed.writeUInt32LE(0xffffffff, 40);
    expect(readWav(streamed)?.samples).toEqual(Int16Array.from([5, 6, 7]));
    const float = wavFile(Int16Array.from([1, 2]), 16_000);
    float.writeUInt16LE(3, 20);
    expect(readWav(float)).toBeUndefined();
    expect(readWav(Buffer.from('ID3 not a wav file'))).toBeUndefined();
  });

  it('resamples to the length the rates ask for and keeps a slow wave', () => {
    const tone = Int16Array.from({ length: 2400 }, (_, i) =>
      Math.round(10_000 * Math.sin((2 * Math.PI * 100 * i) / 24_000)),
    );
    const down = resample(tone, 24_000, 16_000);
    expect(down.length).toBe(1600);
    const expected = Int16Array.from({ length: 1600 }, (_, i) =>
      Math.round(10_000 * Math.sin((2 * Math.PI * 100 * i) / 16_000)),
    );
    expect(Math.max(...down.map((s, i) => Math.abs(s - expected[i]!)))).toBeLessThan(50);
    expect(resample(tone, 16_000, 16_000)).toBe(tone);
  });

  it('reads samples split across messages of odd sizes', () => {
    const bytes = pcm16Bytes(Int16Array.from([1000, -2000, 3000, -4000]));
    const reader = new Pcm16Reader();
    const read = [
      bytes.subarray(0, 3),
      bytes.subarray(3, 4),
      bytes.subarray(4, 7),
      bytes.subarray(7),
    ]
      .map((part) => [...reader.read(part)])
      .flat();
    expect(read).toEqual([1000, -2000, 3000, -4000]);
  });

  it('hands out frames of exactly the size asked, keeping the rest for later', () => {
    const frames = new FrameBuffer(4);
    expect(frames.push(Int16Array.from([1, 2, 3]))).toEqual([]);
    expect(frames.push(Int16Array.from([4, 5, 6, 7, 8, 9]))).toEqual([
      Int16Array.from([1, 2, 3, 4]),
      Int16Array.from([5, 6, 7, 8]),
    ]);
    expect(frames.push(Int16Array.from([10, 11, 12]))).toEqual([Int16Array.from([9, 10, 11, 12])]);
  });
});
