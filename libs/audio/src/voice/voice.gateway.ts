import { Logger } from '@nestjs/common';
import {
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  WebSocketGateway,
} from '@nestjs/websockets';
import {
  BEARER_SUBPROTOCOL,
  closeAtExpiry,
  MessageRateLimiter,
  type Principal,
  SOCKET_CLOSE,
  WebSocketHandshake,
} from '@parley/auth';
import { AppConfig, toAppError, toProblem } from '@parley/core';
import {
  VoiceDisabledError,
  InvalidVoiceConversationError,
  VoiceProtocolError,
  VoiceScopesError,
} from '../audio.errors';
import { ChatTurns, ConversationsService } from '@parley/conversation';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { LiveSpeech } from './live-speech.service';
import { packagedVadModel, SileroVadModel } from './silero-vad';
import { VoiceMetrics } from './voice.metrics';
import { ClientMessage } from './voice-protocol';
import { VOICE_CLOSE, VoiceSession } from './voice-session';
import { VoiceSessionSlots } from './voice-session-slots.service';

interface VoiceSocket extends WebSocket {
  session?: Promise<VoiceSession | undefined>;
  closing?: string;
  stopExpiry?: () => void;
}

const { unauthorized: UNAUTHORIZED, forbidden: FORBIDDEN } = SOCKET_CLOSE;
/** Frames held while the handshake is checked; a client that floods before it is closed. */
const MAX_PENDING_FRAMES = 64;
const TOO_MANY = 4429;
/** The largest frame a client may send: about 4 s of 48 kHz audio, or a session.start. */
const MAX_FRAME_BYTES = 384 * 1024;

/**
 * Realtime voice at GET /v1/voice (WebSocket), authenticated at the handshake like /v1/ws and
 * bound to a conversation (`?conversationId=`, session.start's, or a new one). The protocol
 * is in docs/voice-protocol.schema.json and the README; a VoiceSession runs each socket.
 */
@WebSocketGateway({
  path: '/v1/voice',
  maxPayload: MAX_FRAME_BYTES,
  handleProtocols: (protocols: Set<string>) =>
    protocols.has(BEARER_SUBPROTOCOL) ? BEARER_SUBPROTOCOL : false,
})
export class VoiceGateway implements OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger('VoiceGateway');
  private readonly vad: SileroVadModel;

  constructor(
    private readonly handshake: WebSocketHandshake,
    private readonly conversations: ConversationsService,
    private readonly turns: ChatTurns,
    private readonly limiter: MessageRateLimiter,
    private readonly speech: LiveSpeech,
    private readonly slots: VoiceSessionSlots,
    private readonly metrics: VoiceMetrics,
    private readonly config: AppConfig,
  ) {
    this.vad = SileroVadModel.shared(config.voice.vad.modelPath ?? packagedVadModel());
  }

  handleConnection(client: VoiceSocket, request: IncomingMessage): void {
    // The model loads (once per process) while the handshake is checked, not at boot: a process
    // that never serves a voice session never holds it.
    this.vad
      .warm()
      .catch((error: Error) => this.logger.warn(`VAD model not loaded: ${error.message}`));
    const pending: RawData[] = [];
    let session: VoiceSession | undefined;
    // Messages are read in order; those that arrive while the session is being set up wait.
    client.on('message', (data: RawData, isBinary: boolean) => {
      if (session) return this.receive(client, session, data, isBinary);
      if (pending.length >= MAX_PENDING_FRAMES) {
        pending.length = 0;
        client.closing = 'protocol';
        return client.close(1008, 'too many frames before session.started');
      }
      pending.push(Object.assign(data, { isBinary }));
    });
    client.session = this.open(client, request).then(
      (opened) => {
        session = opened;
        if (opened)
          for (const data of pending.splice(0))
            this.receive(client, opened, data, (data as { isBinary?: boolean }).isBinary === true);
        return opened;
      },
      (error: unknown) => {
        const appError = toAppError(error);
        const code =
          appError.status === 401
            ? UNAUTHORIZED
            : appError.status === 429
              ? TOO_MANY
              : appError.status === 403 || appError.status === 404
                ? FORBIDDEN
                : VOICE_CLOSE.protocol;
        this.sendError(client, error);
        client.close(code, appError.message.slice(0, 120));
        return undefined;
      },
    );
  }

  handleDisconnect(client: VoiceSocket): void {
    client.stopExpiry?.();
    void client.session?.then((session) => session?.close(client.closing ?? 'client'));
  }

  private async open(
    client: VoiceSocket,
    request: IncomingMessage,
  ): Promise<VoiceSession | undefined> {
    if (!this.config.voice.enabled) throw new VoiceDisabledError();
    const auth = await this.handshake.authenticate(request);
    const { principal } = auth;
    assertVoiceScopes(principal);
    const conversationId = await this.conversationFor(principal, request);
    const id = randomUUID();
    const release = await this.slots.take(principal.tenantId, id);
    if (client.readyState !== client.OPEN) {
      release();
      return undefined;
    }
    this.metrics.opened();
    const session = new VoiceSession(
      {
        turns: this.turns,
        conversations: this.conversations,
        speech: this.speech,
        vad: this.vad,
        metrics: this.metrics,
        config: this.config.voice,
        admitTurn: async () => {
          // The caller as it stands now: a revoked key or a disabled user ends the session.
          const current = await this.handshake.recheck(auth.credential).then(
            (p) => (assertVoiceScopes(p), p),
            (error: unknown) => {
              const status = toAppError(error).status;
              client.closing = 'unauthorized';
              client.close(status === 403 ? FORBIDDEN : UNAUTHORIZED, 'credential no longer valid');
              throw error;
            },
          );
          await this.limiter.consume('chat', current);
          return current;
        },
      },
      principal,
      conversationId,
      id,
      {
        json: (event) => {
          if (client.readyState === client.OPEN) client.send(JSON.stringify(event));
        },
        binary: (bytes) => {
          if (client.readyState === client.OPEN) client.send(bytes, { binary: true });
        },
        buffered: () => client.bufferedAmount,
        close: (code, reason) => {
          client.closing = reason.replace(/\s+/g, '_');
          client.close(code, reason);
        },
      },
    );
    client.once('close', release);
    client.stopExpiry = closeAtExpiry(auth, (code, reason) => {
      client.closing = 'token_expired';
      client.close(code, reason);
    });
    return session;
  }

  /** The conversation of ?conversationId= (which must be the caller's), or a new one. */
  private async conversationFor(principal: Principal, request: IncomingMessage): Promise<string> {
    const requested = new URL(request.url ?? '/', 'http://localhost').searchParams.get(
      'conversationId',
    );
    if (requested) {
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(requested))
        throw new InvalidVoiceConversationError();
      return (await this.conversations.get(principal, requested)).id;
    }
    return (await this.conversations.create(principal, { title: 'Voice session' })).id;
  }

  private receive(
    client: VoiceSocket,
    session: VoiceSession,
    data: RawData,
    isBinary: boolean,
  ): void {
    try {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (isBinary) return session.audio(bytes);
      const message = parse(bytes.toString('utf8'));
      if (message.type === 'session.start') session.start(message);
      else if (message.type === 'response.cancel') session.cancel();
      else {
        client.closing = 'client';
        client.close(1000, 'session ended');
      }
    } catch (error) {
      this.sendError(client, error);
      client.closing = 'protocol';
      client.close(VOICE_CLOSE.protocol, toAppError(error).message.slice(0, 120));
    }
  }

  private sendError(client: VoiceSocket, error: unknown): void {
    if (client.readyState === client.OPEN)
      client.send(
        JSON.stringify({ type: 'error', error: toProblem(toAppError(error), randomUUID()) }),
      );
  }
}

/** A client text frame, validated against the protocol; a 400 problem that says what is wrong. */
function parse(text: string): ClientMessage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new VoiceProtocolError('Text frames must be JSON objects with a "type".');
  }
  const result = ClientMessage.safeParse(json);
  if (result.success) return result.data;
  throw new VoiceProtocolError(
    'The message does not follow the voice protocol.',
    result.error.issues.map((i) => ({ field: i.path.join('.') || 'type', messages: [i.message] })),
  );
}

/** A voice session speaks and listens: an API key needs both the chat and audio scopes. */
function assertVoiceScopes(principal: Principal): void {
  if (
    principal.kind === 'apiKey' &&
    !(principal.scopes.includes('chat') && principal.scopes.includes('audio'))
  )
    throw new VoiceScopesError();
}
