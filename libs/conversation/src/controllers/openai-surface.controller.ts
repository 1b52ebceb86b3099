import { Body, Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authorize, CurrentPrincipal, RateLimit } from '@parley/auth';
import { NotFoundError, OpenAiErrors } from '@parley/core';
import { EXTRACTIVE_MODEL, ModelRouter } from '@parley/llm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type EmbeddingList, OpenAiEmbeddings } from '../completions/openai-embeddings.service';
import { EmbeddingsRequestDto } from '../dto/embeddings.dto';
import { abortOnDisconnect } from '../pipeline/sse';

interface OpenAiModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

/**
 * The rest of OpenAI's surface that clients built for it (Open WebUI, LibreChat, LangChain, the
 * official SDKs) call before or beside chat completions: the models this caller may name, and
 * embeddings. Same auth, scopes, rate limits and error shape as /v1/chat/completions.
 */
@ApiTags('openai-compatible')
@RateLimit('chat')
@Authorize({ role: 'member', scope: 'chat' })
@OpenAiErrors()
@Controller('v1')
export class OpenAiSurfaceController {
  constructor(
    private readonly router: ModelRouter,
    private readonly embeddings: OpenAiEmbeddings,
    private readonly principal: CurrentPrincipal,
  ) {}

  @Get('models')
  @ApiOperation({
    summary:
      'The model names this caller may send: the configured aliases and provider/model pairs (parley-extractive when no provider is configured).',
  })
  @ApiOkResponse({
    schema: {
      example: {
        object: 'list',
        data: [{ id: 'default', object: 'model', created: 0, owned_by: 'parley' }],
      },
    },
  })
  list(): { object: 'list'; data: OpenAiModel[] } {
    return { object: 'list', data: this.models() };
  }

  @Get('models/:id')
  @ApiOperation({ summary: 'One model of the list, or 404 `NOT_FOUND`.' })
  get(@Param('id') id: string): OpenAiModel {
    const model = this.models().find((m) => m.id === id);
    if (!model) throw new NotFoundError('The model');
    return model;
  }

  @Post('embeddings')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'OpenAI-compatible embeddings through the configured embedding model: guarded, admitted against the budgets and metered.',
  })
  @ApiOkResponse({ description: 'An embeddings `list` (float arrays, or base64 float32).' })
  create(
    @Body() body: EmbeddingsRequestDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<EmbeddingList> {
    return this.embeddings.create(
      this.principal.get(),
      String(request.id),
      body,
      abortOnDisconnect(reply).signal,
    );
  }

  /** Aliases first, then every provider's models as provider/model. */
  private models(): OpenAiModel[] {
    const names = this.router.hasProviders
      ? [...new Set([...this.router.publicModels(), ...this.router.deployments()])]
      : [EXTRACTIVE_MODEL];
    return names.map((id) => ({
      id,
      object: 'model',
      created: 0,
      owned_by: id.includes('/') ? id.slice(0, id.indexOf('/')) : 'parley',
    }));
  }
}
