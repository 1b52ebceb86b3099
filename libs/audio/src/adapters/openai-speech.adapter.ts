import { fileTypeFromBuffer } from 'file-type';
import OpenAI, { APIError, toFile } from 'openai';
import { encode } from '../media/transcode';
import { CONTENT_TYPES } from '../media/audio-probe';
import {
  type SpeechRequest,
  SpeechRecognizer,
  SpeechSynthesizer,
  type SynthesizedSpeech,
  type Transcript,
  type TranscriptionRequest,
} from '../ports/speech.port';
import { EngineFailedError, SpeechProviderRejectedError } from '../audio.errors';

export interface OpenAiSpeechOptions {
  baseUrl: string;
  apiKey?: string;
  ttsModel: string;
  sttModel: string;
  voice: string;
  timeoutMs: number;
}

/** A provider's refusal of the input (4xx but 408/429) is final; anything else may pass. */
function describe(error: unknown): Error {
  if (error instanceof APIError && error.status && error.status >= 400 && error.status < 500) {
    if (error.status !== 408 && error.status !== 429)
      return new SpeechProviderRejectedError(error.status, error.message);
  }
  return new EngineFailedError(`speech provider: ${(error as Error).message}`);
}

/** `/audio/speech` and `/audio/transcriptions` of OpenAI or any server speaking the same API. */
export class OpenAiSpeech {
  private readonly client: OpenAI;

  constructor(readonly options: OpenAiSpeechOptions) {
    this.client = new OpenAI({
      baseURL: options.baseUrl,
      apiKey: options.apiKey ?? 'none',
      timeout: options.timeoutMs,
      maxRetries: 0,
    });
  }

  async synthesize(request: SpeechRequest, signal?: AbortSignal): Promise<SynthesizedSpeech> {
    try {
      const response = await this.client.audio.speech.create(
        {
          model: this.options.ttsModel,
          voice: request.voice ?? this.options.voice,
          input: request.text,
          response_format: request.format,
          ...(request.speed ? { speed: request.speed } : {}),
        },
        { signal },
      );
      const received = Buffer.from(await response.arrayBuffer());
      // Some compatible servers answer WAV whatever was asked: convert it then.
      const type = await fileTypeFromBuffer(received);
      const audio =
        type?.ext === 'wav' && request.format !== 'wav'
          ? await encode(received, request.format, this.options.timeoutMs, signal)
          : received;
      return { audio, format: request.format, contentType: CONTENT_TYPES[request.format] };
    } catch (error) {
      throw describe(error);
    }
  }

  async transcribe(request: TranscriptionRequest, signal?: AbortSignal): Promise<Transcript> {
    try {
      const result = await this.client.audio.transcriptions.create(
        {
          file: await toFile(request.audio, `audio.${request.format}`),
          model: this.options.sttModel,
          response_format: 'verbose_json',
          ...(request.language ? { language: request.language } : {}),
          ...(request.prompt ? { prompt: request.prompt } : {}),
        },
        { signal },
      );
      return {
        text: result.text,
        language: result.language,
        durationMs: Math.round((result.duration ?? 0) * 1000),
        ...(result.segments
          ? {
              segments: result.segments.map((s) => ({
                startMs: Math.round(s.start * 1000),
                endMs: Math.round(s.end * 1000),
                text: s.text,
              })),
            }
          : {}),
      };
    } catch (error) {
      throw describe(error);
    }
  }
}

export class OpenAiSynthesizer extends SpeechSynthesizer {
  readonly provider = 'openai';
  constructor(private readonly api: OpenAiSpeech) {
    super();
  }
  get model(): string {
    return this.api.options.ttsModel;
  }
  synthesize(request: SpeechRequest, signal?: AbortSignal): Promise<SynthesizedSpeech> {
    return this.api.synthesize(request, signal);
  }
}

export class OpenAiRecognizer extends SpeechRecognizer {
  readonly provider = 'openai';
  constructor(private readonly api: OpenAiSpeech) {
    super();
  }
  get model(): string {
    return this.api.options.sttModel;
  }
  transcribe(request: TranscriptionRequest, signal?: AbortSignal): Promise<Transcript> {
    return this.api.transcribe(request, signal);
  }
}
