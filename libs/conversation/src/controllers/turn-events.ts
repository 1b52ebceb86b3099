import { toAppError, toProblem } from '@parley/core';
import type { FastifyReply } from 'fastify';
import type { TurnDto } from '../dto/conversation.dto';
import type { TurnEvent } from '../pipeline/chat-turn.types';
import { SseStream } from '../pipeline/sse';

/**
 * A turn as Server-Sent Events. Validation, ownership and model errors surface as normal
 * problem responses: the stream only opens once the turn has produced its first event.
 */
export async function streamTurn(
  turn: AsyncGenerator<TurnEvent>,
  reply: FastifyReply,
  requestId: string,
): Promise<void> {
  const first = await turn.next();
  const sse = new SseStream(reply);
  try {
    for (let step = first; !step.done; step = await turn.next()) sendEvent(sse, step.value);
  } catch (error) {
    sse.send('error', toProblem(toAppError(error), requestId));
  } finally {
    sse.end();
  }
}

/** A turn's event as Server-Sent Events (conversation messages and approvals alike). */
/** The agent's events (tool calls, results, approvals) as both SSE and WebSocket name them. */
export function agentEventFrame(
  event: TurnEvent,
): { name: string; data: Record<string, unknown> } | undefined {
  if (event.type === 'tool_call')
    return {
      name: 'tool.call',
      data: { id: event.id, name: event.name, arguments: event.arguments },
    };
  if (event.type === 'tool_result')
    return {
      name: 'tool.result',
      data: { id: event.id, name: event.name, status: event.status, result: event.result },
    };
  if (event.type === 'approval_required') {
    const { type: _type, ...approval } = event;
    return { name: 'tool.approval_required', data: approval };
  }
  return undefined;
}

function sendEvent(sse: SseStream, event: TurnEvent): void {
  const agent = agentEventFrame(event);
  if (agent) sse.send(agent.name, agent.data);
  else if (event.type === 'start') sse.send('start', event.responder);
  else if (event.type === 'delta') sse.send('delta', { text: event.text });
  else if (event.type === 'done') {
    sse.send('usage', event.assistantMessage.usage);
    sse.send('done', { userMessage: event.userMessage, assistantMessage: event.assistantMessage });
  }
}

/** The turn's stored result, for a JSON response. */
export async function finalTurn(turn: AsyncGenerator<TurnEvent>): Promise<TurnDto> {
  for await (const event of turn) if (event.type === 'done') return event;
  throw new Error('the turn ended without a result');
}
