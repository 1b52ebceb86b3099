import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import { Authorize, CurrentPrincipal, RateLimit } from '@parley/auth';
import { CursorQueryDto, type Page } from '@parley/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ConversationView, MessageView } from '../conversation.views';
import { toConversationView } from '../conversation.views';
import { ConversationsService } from '../conversations.service';
import {
  ConversationDto,
  ConversationPageDto,
  CreateConversationWithTemplateDto,
  MessagePageDto,
  SendMessageDto,
  TurnDto,
  UpdateConversationDto,
} from '../dto/conversation.dto';
import type { TurnEvent } from '../pipeline/chat-turn.types';
import { ChatTurns } from '../pipeline/chat-turns.service';
import { abortOnDisconnect } from '../pipeline/sse';
import { finalTurn, streamTurn } from './turn-events';
import { IdempotencyService } from '../idempotency/idempotency.service';

const TOOL_ENABLE_FORBIDDEN =
  'Not allowed (`FORBIDDEN`), or `TOOL_ENABLE_FORBIDDEN`: `tools` adds a tool whose `enableRoles` do not include your role (an API key: its creator’s role); the detail and `tools` name the roles that may.';

@ApiTags('conversations')
@RateLimit('chat')
@Authorize({ role: 'member', scope: 'chat' })
@Controller('v1/conversations')
export class ConversationsController {
  constructor(
    private readonly conversations: ConversationsService,
    private readonly turns: ChatTurns,
    private readonly principal: CurrentPrincipal,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Start a conversation.' })
  @ApiCreatedResponse({ type: ConversationDto })
  @ApiForbiddenResponse({ description: TOOL_ENABLE_FORBIDDEN })
  create(@Body() body: CreateConversationWithTemplateDto): Promise<ConversationView> {
    return this.conversations.create(this.principal.get(), body);
  }

  @Get()
  @ApiOperation({ summary: 'Your conversations (admins: the tenant’s), newest first.' })
  @ApiOkResponse({ type: ConversationPageDto })
  list(@Query() query: CursorQueryDto): Promise<Page<ConversationView>> {
    return this.conversations.list(this.principal.get(), query);
  }

  @Get(':id')
  @ApiOkResponse({ type: ConversationDto })
  @ApiNotFoundResponse({ description: '`NOT_FOUND`' })
  async get(@Param('id', ParseUUIDPipe) id: string): Promise<ConversationView> {
    return toConversationView(await this.conversations.get(this.principal.get(), id));
  }

  @Patch(':id')
  @ApiOkResponse({ type: ConversationDto })
  @ApiNotFoundResponse({ description: '`NOT_FOUND`' })
  @ApiForbiddenResponse({ description: TOOL_ENABLE_FORBIDDEN })
  update(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: UpdateConversationDto,
  ): Promise<ConversationView> {
    return this.conversations.update(this.principal.get(), id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: '`NOT_FOUND`' })
  async remove(@Param('id', ParseUUIDPipe) id: string): Promise<void> {
    await this.conversations.remove(this.principal.get(), id);
  }

  @Get(':id/messages')
  @ApiOperation({ summary: 'The messages, oldest first.' })
  @ApiOkResponse({ type: MessagePageDto })
  listMessages(
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: CursorQueryDto,
  ): Promise<Page<MessageView>> {
    return this.conversations.listMessages(this.principal.get(), id, query);
  }

  @Get(':id/messages/:messageId/steps')
  @ApiOperation({
    summary:
      'How an answer came about: each model turn (tokens, cost, the calls it asked for) and each tool call (arguments, status, result, duration), in order.',
  })
  @ApiOkResponse({
    schema: { type: 'object', properties: { items: { type: 'array', items: { type: 'object' } } } },
  })
  async steps(
    @Param('id', ParseUUIDPipe) id: string,
    @Param('messageId', ParseUUIDPipe) messageId: string,
  ): Promise<{ items: unknown[] }> {
    return { items: await this.conversations.steps(this.principal.get(), id, messageId) };
  }

  @Post(':id/messages')
  @ApiOperation({
    summary: 'Send a message and get the answer.',
    description:
      'JSON by default. With `Accept: text/event-stream` the answer streams as Server-Sent Events: ' +
      '`start` {model, provider, extractive}, `delta` {text}…, `usage` {promptTokens, completionTokens}, ' +
      '`done` {userMessage, assistantMessage}; or `error` (a problem details object). ' +
      'If the client disconnects, generation stops and the partial answer is stored with status `aborted`.',
  })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Repeating a request with the same key (within 24 h) returns the stored answer instead of calling the model again ' +
      '(with `Idempotent-Replayed: true`). The same key with another body: 422 `IDEMPOTENCY_KEY_REUSED`; ' +
      'while the first is still running: 409 `IDEMPOTENCY_IN_PROGRESS`.',
  })
  @ApiCreatedResponse({ type: TurnDto })
  @ApiNotFoundResponse({ description: '`NOT_FOUND`' })
  async send(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: SendMessageDto,
    @Headers('accept') accept: string | undefined,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TurnDto | void> {
    const principal = this.principal.get();
    const abort = abortOnDisconnect(reply);
    const claim = idempotencyKey
      ? await this.idempotency.claim<TurnDto>(
          principal,
          idempotencyKey,
          `POST /v1/conversations/${id}/messages`,
          body,
        )
      : undefined;
    let turn: AsyncGenerator<TurnEvent>;
    if (claim?.kind === 'replay') {
      reply.header('idempotent-replayed', 'true');
      turn = replayTurn(claim.response);
    } else {
      const run = this.turns.send(
        principal,
        id,
        {
          content: body.content,
          model: body.model,
          maxTokens: body.maxTokens,
          temperature: body.temperature,
          requestId: String(request.id),
        },
        abort.signal,
      );
      turn = idempotencyKey
        ? this.idempotency.remembered(principal, idempotencyKey, run, (e) =>
            e.type === 'done'
              ? { userMessage: e.userMessage, assistantMessage: e.assistantMessage }
              : undefined,
          )
        : run;
    }
    if (!accept?.includes('text/event-stream')) {
      reply.status(201);
      return finalTurn(turn);
    }
    await streamTurn(turn, reply, String(request.id));
  }
}

/** The stored answer of an idempotent repeat, as the events a live turn would produce. */
async function* replayTurn(stored: TurnDto): AsyncGenerator<TurnEvent> {
  const a = stored.assistantMessage;
  yield {
    type: 'start',
    responder: {
      provider: a.provider ?? 'parley',
      model: a.model ?? '',
      extractive: a.model === 'parley-extractive',
    },
  };
  if (a.content) yield { type: 'delta', text: a.content };
  yield { type: 'done', userMessage: stored.userMessage as never, assistantMessage: a as never };
}
