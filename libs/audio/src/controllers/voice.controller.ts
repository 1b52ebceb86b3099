import { Controller, Headers, Param, ParseUUIDPipe, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Authorize, CurrentPrincipal, ForbiddenError, RateLimit } from '@parley/auth';
import { AcceptsUploads, ValidationFailedError } from '@parley/core';
import { ConversationsService } from '@parley/conversation';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AUDIO_UPLOAD_SCHEMA, AudioJobDto, VOICE_PATTERN, WaitQueryDto } from '../dto/audio.dto';
import { AudioJobsService, type AudioJobView } from '../jobs/audio-jobs.service';
import { AudioUploads } from '../jobs/audio-uploads.service';
import { SpeechProviders } from '../speech-providers.service';

const FORMATS = ['wav', 'mp3', 'opus'];

/**
 * A voice turn: the user's recording → transcription → the chat pipeline (as a typed message
 * would go, with guardrails, budgets, retrieval and tools) → the reply spoken, as one job
 * (a BullMQ flow of three steps).
 */
@ApiTags('conversations')
@RateLimit('audio')
@Authorize({ role: 'member', scope: 'audio' })
@Controller('v1/conversations')
export class VoiceController {
  constructor(
    private readonly conversations: ConversationsService,
    private readonly jobs: AudioJobsService,
    private readonly uploads: AudioUploads,
    private readonly providers: SpeechProviders,
    private readonly principal: CurrentPrincipal,
  ) {}

  @Post(':id/voice')
  @AcceptsUploads()
  @ApiOperation({
    summary:
      'Send a spoken message; the job’s result carries the transcript, the reply and its audio.',
    description:
      'Multipart: `file` (the recording), optional `language`, `voice` and `format` (wav|mp3|opus, default mp3) of the reply. ' +
      'The upload is checked like a transcription’s. Result: `{transcript: {text, language, durationMs}, reply: {messageId, content, citations, …}, audio: {url, contentType, …}}`; ' +
      'the reply audio is also at GET /v1/audio/jobs/{id}/content.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      ...AUDIO_UPLOAD_SCHEMA,
      properties: {
        ...AUDIO_UPLOAD_SCHEMA.properties,
        voice: { type: 'string' },
        format: { type: 'string', enum: FORMATS },
      },
    },
  })
  @ApiAcceptedResponse({ type: AudioJobDto })
  @ApiOkResponse({ type: AudioJobDto, description: 'With `wait`: finished in time.' })
  async voice(
    @Param('id', ParseUUIDPipe) id: string,
    @Req() request: FastifyRequest,
    @Query() query: WaitQueryDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AudioJobView> {
    const principal = this.principal.get();
    // The reply is a chat turn: an API key needs the chat scope as well as audio.
    if (principal.kind === 'apiKey' && !principal.scopes.includes('chat'))
      throw new ForbiddenError(
        'A voice turn is a chat turn: this API key also needs the chat scope.',
      );
    const conversation = await this.conversations.get(principal, id);
    const upload = await this.uploads.read(request, principal.tenantId);
    const { voice, format } = upload.fields;
    if (format !== undefined && !FORMATS.includes(format))
      throw ValidationFailedError.field('format', 'format must be wav, mp3 or opus');
    if (voice !== undefined && !VOICE_PATTERN.test(voice))
      throw ValidationFailedError.field(
        'voice',
        'voice must be a voice name such as en-us or alloy',
      );
    await this.providers.synthesizer(principal.tenantId).validate?.({ voice });
    const { job } = await this.jobs.create(
      principal,
      {
        kind: 'voice',
        conversationId: conversation.id,
        input: upload.input,
        options: {
          ...upload.options,
          ...(voice ? { voice } : {}),
          format: format ?? 'mp3',
          // The chat step runs as this principal (an admin may speak in a member's conversation).
          ...(principal.role ? { role: principal.role } : {}),
        },
      },
      idempotencyKey,
    );
    const answer = await this.jobs.respond(principal, job, query.wait);
    reply.status(answer.status);
    return answer.job;
  }
}
