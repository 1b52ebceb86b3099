import {
  Body,
  Controller,
  Get,
  Headers,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiConsumes,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiPartialContentResponse,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import { Authorize, CurrentPrincipal, RateLimit } from '@parley/auth';
import { AcceptsUploads, AppConfig } from '@parley/core';
import { TextTooLongError, AudioNotReadyError } from '../audio.errors';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { combineRanges, parse as parseRange } from 'range-parser';
import { AUDIO_UPLOAD_SCHEMA, AudioJobDto, SpeechDto, WaitQueryDto } from '../dto/audio.dto';
import { AudioUploads } from '../jobs/audio-uploads.service';
import { AudioJobsService, type AudioJobView } from '../jobs/audio-jobs.service';
import { AudioStorage } from '../ports/audio-storage.port';
import { SpeechProviders } from '../speech-providers.service';

const IDEMPOTENCY_HEADER = {
  name: 'Idempotency-Key',
  required: false,
  description:
    'Names the job: repeating the POST with the same key returns the job it made instead of queueing another (the same key with a different request: 422 `IDEMPOTENCY_KEY_REUSED`). Keys are per caller (user or API key): another caller of your tenant using the same key gets a job of its own.',
};

/**
 * Speech as jobs: text to speech and transcription are queued (202 with the job) and run by
 * the workers; `?wait=` answers 200 with the finished job when it finishes in time. Progress
 * and completion are pushed to the owner's WebSockets and can be polled.
 */
@ApiTags('audio')
@RateLimit('audio')
@Authorize({ role: 'member', scope: 'audio' })
@Controller('v1/audio')
export class AudioController {
  constructor(
    private readonly jobs: AudioJobsService,
    private readonly uploads: AudioUploads,
    private readonly providers: SpeechProviders,
    private readonly storage: AudioStorage,
    private readonly principal: CurrentPrincipal,
    private readonly config: AppConfig,
  ) {}

  @Post('speech')
  @ApiOperation({ summary: 'Queue text to speech.' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiAcceptedResponse({ type: AudioJobDto, description: 'Queued (or, with wait, still running).' })
  @ApiOkResponse({ type: AudioJobDto, description: 'With `wait`: finished in time.' })
  async speech(
    @Body() body: SpeechDto,
    @Query() query: WaitQueryDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AudioJobView> {
    const principal = this.principal.get();
    const limit = this.config.audio.maxTextChars;
    if (body.text.length > limit) throw new TextTooLongError(body.text.length, limit);
    await this.providers.synthesizer(principal.tenantId).validate?.(body);
    const options = { voice: body.voice, language: body.language, speed: body.speed };
    const { job } = await this.jobs.create(
      principal,
      { kind: 'speech', text: body.text, options: { ...options, format: body.format ?? 'mp3' } },
      idempotencyKey,
    );
    return this.answer(job, query.wait, reply);
  }

  @Post('transcriptions')
  @AcceptsUploads()
  @ApiOperation({
    summary: 'Queue a transcription.',
    description:
      'Refused before anything is queued: over AUDIO_MAX_UPLOAD_BYTES 413 `AUDIO_TOO_LARGE`; not wav, flac, mp3, ogg/opus, webm or m4a 415; longer than AUDIO_MAX_DURATION_SECONDS 422 `AUDIO_TOO_LONG`; empty or shorter than AUDIO_MIN_DURATION_MS 422 `AUDIO_TOO_SHORT`.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: AUDIO_UPLOAD_SCHEMA })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiAcceptedResponse({ type: AudioJobDto })
  @ApiOkResponse({ type: AudioJobDto, description: 'With `wait`: finished in time.' })
  async transcription(
    @Req() request: FastifyRequest,
    @Query() query: WaitQueryDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AudioJobView> {
    const principal = this.principal.get();
    const upload = await this.uploads.read(request, principal.tenantId);
    const { job } = await this.jobs.create(
      principal,
      { kind: 'transcription', input: upload.input, options: upload.options },
      idempotencyKey,
    );
    return this.answer(job, query.wait, reply);
  }

  @Get('jobs/:id')
  @ApiOperation({ summary: 'An audio job: status, progress, attempts, error and result.' })
  @ApiOkResponse({ type: AudioJobDto })
  get(@Param('id', ParseUUIDPipe) id: string): Promise<AudioJobView> {
    return this.jobs.get(this.principal.get(), id);
  }

  @Get('jobs/:id/content')
  @ApiOperation({
    summary: 'The audio a speech job (or voice turn) produced; supports Range requests.',
  })
  @ApiProduces('audio/mpeg', 'audio/wav', 'audio/ogg')
  @ApiOkResponse({ description: 'The whole file.' })
  @ApiPartialContentResponse({ description: 'The requested byte range.' })
  async content(
    @Param('id', ParseUUIDPipe) id: string,
    @Headers('range') range: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const row = await this.jobs.row(this.principal.get(), id);
    const audio = (row.kind === 'voice' ? row.result?.audio : row.result) as
      { contentType?: string } | undefined;
    if (row.status !== 'completed' || !row.output_key || !audio?.contentType)
      throw new AudioNotReadyError(row.status, Boolean(row.output_key));
    const size = await this.storage.size(row.output_key);
    reply.header('accept-ranges', 'bytes').header('content-type', audio.contentType);
    if (range) {
      const parsed = parseRange(size, range);
      const ranges = parsed.type === 'bytes' ? combineRanges(parsed.ranges) : [];
      if (parsed.type === 'bytes' && ranges.length === 0 && parsed.code & 2) {
        reply.status(416).header('content-range', `bytes */${size}`).send();
        return;
      }
      if (ranges.length === 1) {
        const { start, end } = ranges[0]!;
        const { body } = await this.storage.open(row.output_key, { start, end });
        reply
          .status(206)
          .header('content-range', `bytes ${start}-${end}/${size}`)
          .header('content-length', end - start + 1)
          .send(body);
        return;
      }
      // A malformed or multi-part range is ignored: the whole file is sent (RFC 9110).
    }
    const { body } = await this.storage.open(row.output_key);
    reply.status(200).header('content-length', size).send(body);
  }

  private async answer(
    job: AudioJobView,
    wait: number | undefined,
    reply: FastifyReply,
  ): Promise<AudioJobView> {
    const answer = await this.jobs.respond(this.principal.get(), job, wait);
    reply.status(answer.status);
    return answer.job;
  }
}
