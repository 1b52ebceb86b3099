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
  closeAtExpiry,
  MessageRateLimiter,
  ownerKey,
  type Principal,
  SOCKET_CLOSE,
  type SocketAuth,
  SocketRegistry,
  WebSocketHandshake,
} from '@parley/auth';
import { toAppError, toProblem } from '@parley/core';
import {
  SocketNotReadyError,
  TurnAlreadyRunningError,
  InvalidSocketMessageError,
} from '../conversation.errors';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { CallerAbortedError } from '@parley/llm';
import { agentEventFrame } from './turn-events';
import { ChatTurns } from '../pipeline/chat-turns.service';

interface ChatSocket extends WebSocket {
  /** Set once the handshake's credential is checked; frames that come before are dropped. */
  auth?: SocketAuth;
  /** Whether the client was told that it sent a frame before `ready`. */
  toldEarly?: boolean;
  stopExpiry?: () => void;
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

const { unauthorized: UNAUTHORIZED, forbidden: FORBIDDEN } = SOCKET_CLOSE;
/** The largest frame a client may send: a chat message is text, far below this. */
const MAX_FRAME_BYTES = 64 * 1024;

/**
 * Chat over WebSocket at /v1/ws, authenticated at the handshake like HTTP (headers, or the
 * `parley.bearer, <token>` subprotocols for browsers; never the URL). Messages are JSON
 * `{event, data}`: `chat.send` → `chat.start`, `chat.delta`…, `chat.done` or `chat.error`;
 * `cancel` {requestId} aborts a generation (→ `chat.cancelled`; the partial answer is stored as
 * aborted). Closing the socket cancels too.
 */
@WebSocketGateway({
  path: '/v1/ws',
  maxPayload: MAX_FRAME_BYTES,
  handleProtocols: (protocols: Set<string>) =>
    protocols.has(BEARER_SUBPROTOCOL) ? BEARER_SUBPROTOCOL : false,
})
export class ChatGateway implements OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger('ChatGateway');

  constructor(
    private readonly handshake: WebSocketHandshake,
    private readonly turns: ChatTurns,
    private readonly limiter: MessageRateLimiter,
    private readonly sockets: SocketRegistry,
  ) {}

  handleConnection(client: ChatSocket, request: IncomingMessage): void {
    client.turns = new Map();
    this.handshake.authenticate(request).then(
      (auth) => {
        if (!this.mayChat(client, auth.principal)) return;
        // Events other libs push to this owner (audio jobs) reach this socket too; one that
        // closed while it was authenticated is not filed (its disconnect has already run).
        if (client.readyState !== client.OPEN) return;
        client.unregister = this.sockets.add(ownerKey(auth.principal), (event, data) => {
          if (client.readyState === client.OPEN) client.send(JSON.stringify({ event, data }));
        });
        client.auth = auth;
        client.stopExpiry = closeAtExpiry(auth, (code, reason) => client.close(code, reason));
        client.send(
          JSON.stringify({
            event: 'ready',
            data: { expiresAt: auth.expiresAt ? new Date(auth.expiresAt).toISOString() : null },
          }),
        );
      },
      (error: unknown) => this.refuse(client, error),
    );
  }

  /** An API key needs the chat scope; a key that lost it is closed with 4403. */
  private mayChat(client: ChatSocket, principal: Principal): boolean {
    if (principal.kind !== 'apiKey' || principal.scopes.includes('chat')) return true;
    client.close(FORBIDDEN, 'this API key lacks the chat scope');
    return false;
  }

  private refuse(client: ChatSocket, error: unknown): void {
    const appError = toAppError(error);
    client.close(
      appError.status === 403 ? FORBIDDEN : UNAUTHORIZED,
      appError.message.slice(0, 120),
    );
  }

  /**
   * The caller as it stands now, for each message: a revoked key, a disabled user or a changed
   * role takes effect on an open socket as on HTTP. A frame sent before `ready` is dropped.
   */
  private async current(client: ChatSocket): Promise<Principal | undefined> {
    if (!client.auth) {
      if (!client.toldEarly && client.readyState === client.OPEN) {
        client.toldEarly = true;
        client.send(
          JSON.stringify({
            event: 'chat.error',
            data: {
              error: toProblem(new SocketNotReadyError(), randomUUID()),
            },
          }),
        );
      }
      return undefined;
    }
    try {
      const principal = await this.handshake.recheck(client.auth.credential);
      return this.mayChat(client, principal) ? principal : undefined;
    } catch (error) {
      this.refuse(client, error);
      return undefined;
    }
  }

  handleDisconnect(client: ChatSocket): void {
    client.stopExpiry?.();
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
      const principal = await this.current(client);
      if (!principal) return;
      await this.limiter.consume('chat', principal);
      const input = validate(data);
      if (client.turns!.has(requestId)) throw new TurnAlreadyRunningError(requestId);
      client.turns!.set(requestId, controller);
      const { conversationId, ...request } = input;
      for await (const event of this.turns.send(
        principal,
        conversationId,
        { ...request, requestId },
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
    if (!client.auth) return;
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
  if (errors.length > 0) throw new InvalidSocketMessageError(errors);
  return {
    conversationId: data.conversationId as string,
    content: data.content as string,
    model: data.model as string | undefined,
    maxTokens: data.maxTokens as number | undefined,
    temperature: data.temperature as number | undefined,
  };
}
