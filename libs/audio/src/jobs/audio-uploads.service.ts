import { Injectable } from '@nestjs/common';
import { AppConfig, readUpload, ValidationFailedError } from '@parley/core';
import type { FastifyRequest } from 'fastify';
import { AudioTooLargeError } from '../audio.errors';
import { LANGUAGE_PATTERN } from '../dto/audio.dto';
import { probeAudio } from '../media/audio-probe';
import { SpeechProviders } from '../speech-providers.service';

/**
 * An audio upload, checked before anything is stored or queued: its size (413), its format
 * from the bytes (415), its duration (422 too long / too short), and what the tenant's
 * recognizer can do with the language asked for.
 */
@Injectable()
export class AudioUploads {
  constructor(
    private readonly config: AppConfig,
    private readonly providers: SpeechProviders,
  ) {}

  async read(request: FastifyRequest, tenantId: string) {
    const { audio } = this.config;
    const upload = await readUpload(request, {
      maxBytes: audio.maxUploadBytes,
      tooLarge: () => new AudioTooLargeError(audio.maxUploadBytes),
      fields: 'language, prompt, voice and format',
    });
    const { language, prompt } = upload.fields;
    if (language !== undefined && !LANGUAGE_PATTERN.test(language))
      throw ValidationFailedError.field('language', 'language must be a tag such as en or en-GB');
    if (prompt !== undefined && prompt.length > 2000)
      throw ValidationFailedError.field('prompt', 'prompt must be at most 2000 characters');
    const probed = await probeAudio(upload.bytes, {
      maxDurationSeconds: audio.maxDurationSeconds,
      minDurationMs: audio.minDurationMs,
    });
    this.providers.recognizer(tenantId).validate?.({ language });
    return {
      fields: upload.fields,
      input: {
        bytes: upload.bytes,
        extension: probed.format,
        contentType: probed.contentType,
      },
      options: {
        inputFormat: probed.format,
        durationMs: probed.durationMs,
        ...(language ? { language } : {}),
        ...(prompt ? { prompt } : {}),
      },
    };
  }
}
