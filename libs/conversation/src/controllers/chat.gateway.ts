import { Logger } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import {
  BEARER_SUBPROTOCOL,
  MessageRateLimiter,
  ownerKey,
  type Principal,
  SocketRegistry,
  WebSocketHandshake,
} from '@parley/auth';
import { AppError, toAppError, toProblem } from '@parley/core';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { CallerAbortedError } from '@parley/llm';
import { ConversationsService } from '../conversations.service';
import { agentEventFrame } from './turn-events';
import { ChatPipeline, HISTORY_LIMIT } from '../pipeline/chat-pipeline.service';

interface ChatSocket extends WebSocket {
  principal?: Promise<Principal | undefined>;
  turns?: Map<string, AbortController>;
  /** Takes the socket out of the registry of pushed events. */
  unregister?: () => void;
}

interface SendData {
  conversationId?: unknown;
  content?: unknown;
  model?: unknown;
  maxTokens?: unknown;
  temperature?: unknown;
  /** The client's id for this turn; echoed on every event and used by `cancel`. */
  requestId?: unknown;
}

/** Close codes in the private range, so a client can tell why (like HTTP 401/403). */
const UNAUTHORIZED = 4401;
const FORBIDDEN = 4403;

/**
 * Chat over WebSocket at /v1/ws, authenticated at the handshake like HTTP (headers, or the
 * `parley.bearer, <token>` subprotocols for browsers; never the URL). Messages are JSON
 * `{event, data}`: `chat.send` → `chat.start`, `chat.delta`…, `chat.done` or `chat.error`;
 * `cancel` {requestId} aborts a generation (→ `chat.cancelled`; the partial answer is stored as
 * aborted). Closing the socket cancels too.
 */
@WebSocketGateway({
  path: '/v1/ws',
  handleProtocols: (protocols: Set<string>) =>
    protocols.has(BEARER_SUBPROTOCOL) ? BEARER_SUBPROTOCOL : false,
})
export class ChatGateway implements OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger('ChatGateway');

  constructor(
    private readonly handshake: WebSocketHandshake,
    private readonly conversations: ConversationsService,
    private readonly pipeline: ChatPipeline,
    private readonly limiter: MessageRateLimiter,
    private readonly sockets: SocketRegistry,
  ) {}

  handleConnection(client: ChatSocket, request: IncomingMessage): void {
    client.turns = new Map();
    client.principal = this.handshake.authenticate(request).then(
      ({ principal }) => {
        if (principal.kind === 'apiKey' && !principal.scopes.includes('chat')) {
          client.close(FORBIDDEN, 'this API key lacks the chat scope');
          return undefined;
        }
        // Events other libs push to this owner (audio jobs) reach this socket too; one that
        // closed while it was authenticated is not filed (its disconnect has already run).
        if (client.readyState !== client.OPEN) return undefined;
        client.unregister = this.sockets.add(ownerKey(principal), (event, data) => {
          if (client.readyState === client.OPEN) client.send(JSON.stringify({ event, data }));
        });
        return principal;
      },
      (error: unknown) => {
        const appError = toAppError(error);
        client.close(
          appError.status === 403 ? FORBIDDEN : UNAUTHORIZED,
          appError.message.slice(0, 120),
        );
        return undefined;
      },
    );
  }

  handleDisconnect(client: ChatSocket): void {
    client.unregister?.();
    for (const controller of client.turns?.values() ?? []) controller.abort();
  }

  @SubscribeMessage('chat.send')
  async send(@ConnectedSocket() client: ChatSocket, @MessageBody() data: SendData): Promise<void> {
    const requestId =
      typeof data?.requestId === 'string' && data.requestId.length <= 128
        ? data.requestId
        : randomUUID();
    const emit = (event: string, payload: Record<string, unknown>) => {
      if (client.readyState === client.OPEN)
        client.send(JSON.stringify({ event, data: { requestId, ...payload } }));
    };
    const controller = new AbortController();
    try {
      const principal = await client.principal;
      if (!principal) return;
      await this.limiter.consume('chat', principal);
      const input = validate(data);
      if (client.turns!.has(requestId))
        throw new AppError(
          'CONFLICT',
          409,
          `A turn with requestId ${requestId} is already running.`,
        );
      client.turns!.set(requestId, controller);
      const { conversation, history, paused } = await this.conversations.getForTurn(
        principal,
        input.conversationId,
        HISTORY_LIMIT,
      );
      for await (const event of this.pipeline.run(
        { principal, conversation, ...input, requestId, history, paused },
        controller.signal,
      )) {
        const agent = agentEventFrame(event);
        if (agent) emit(agent.name, agent.data);
        else if (event.type === 'start') emit('chat.start', { ...event.responder });
        else if (event.type === 'delta') emit('chat.delta', { text: event.text });
        else if (event.type === 'done')
          emit('chat.done', {
            userMessage: event.userMessage,
            assistantMessage: event.assistantMessage,
          });
      }
    } catch (error) {
      if (error instanceof CallerAbortedError) {
        emit('chat.cancelled', {});
        return;
      }
      emit('chat.error', { error: toProblem(toAppError(error), requestId) });
      if (toAppError(error).status >= 500)
        this.logger.warn(`turn ${requestId} failed: ${(error as Error).message}`);
    } finally {
      client.turns!.delete(requestId);
    }
  }

  @SubscribeMessage('cancel')
  cancel(
    @ConnectedSocket() client: ChatSocket,
    @MessageBody() data: { requestId?: unknown },
  ): void {
    if (typeof data?.requestId === 'string') client.turns?.get(data.requestId)?.abort();
    else for (const controller of client.turns?.values() ?? []) controller.abort();
  }
}

function validate(data: SendData): {
  conversationId: string;
  content: string;
  model?: string;
  maxTokens?: number;
  temperature?: number;
} {
  const errors: { field: string; messages: string[] }[] = [];
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  if (typeof data?.conversationId !== 'string' || !uuid.test(data.conversationId))
    errors.push({ field: 'conversationId', messages: ['conversationId must be a UUID'] });
  if (typeof data?.content !== 'string' || data.content.length === 0)
    errors.push({ field: 'content', messages: ['content must be a non-empty string'] });
  if (data?.model !== undefined && typeof data.model !== 'string')
    errors.push({ field: 'model', messages: ['model must be a string'] });
  if (
    data?.maxTokens !== undefined &&
    !(Number.isInteger(data.maxTokens) && (data.maxTokens as number) >= 1)
  )
    errors.push({ field: 'maxTokens', messages: ['maxTokens must be a positive integer'] });
  if (
    data?.temperature !== undefined &&
    !(typeof data.temperature === 'number' && data.temperature >= 0 && data.temperature <= 2)
  )
    errors.push({ field: 'temperature', messages: ['temperature must be between 0 and 2'] });
  if (errors.length > 0)
    throw new AppError('VALIDATION_FAILED', 400, 'The message has invalid fields.', {
      extensions: { errors },
    });
  return {
    conversationId: data.conversationId as string,
    content: data.content as string,
    model: data.model as string | undefined,
    maxTokens: data.maxTokens as number | undefined,
    temperature: data.temperature as number | undefined,
  };
}
