import { Body, Controller, Headers, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Authorize, CurrentPrincipal, RateLimit } from '@parley/auth';
import { OpenAiErrors, toAppError } from '@parley/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ChatCompletions } from '../completions/chat-completions.service';
import {
  type CompletionAnswer,
  type Event,
  openAiFinish,
  toCompletion,
  usageOf,
} from '../completions/openai-shapes';
import { ChatCompletionRequestDto } from '../dto/chat-completions.dto';
import { abortOnDisconnect, SseStream } from '../pipeline/sse';

/**
 * OpenAI-compatible chat completions, so the official `openai` client and tools built on it
 * work against Parley with a base URL and an API key. The request passes the same auth and
 * limits as every chat route; with `metadata.conversation_id` it becomes a turn of that
 * conversation (its stored history is the memory), otherwise the given messages are sent as
 * they are. Either way the call is admitted against the caller's budgets first and lands in
 * the usage ledger (ChatCompletions). This controller only maps shapes.
 */
@ApiTags('openai-compatible')
@RateLimit('chat')
@Authorize({ role: 'member', scope: 'chat' })
@Controller('v1/chat')
export class ChatCompletionsController {
  constructor(
    private readonly completions: ChatCompletions,
    private readonly principal: CurrentPrincipal,
  ) {}

  @Post('completions')
  @OpenAiErrors()
  @HttpCode(200)
  @ApiOperation({
    summary: 'OpenAI-compatible chat completions (JSON, or SSE chunks with `stream: true`).',
  })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiOkResponse({
    description:
      'A `chat.completion` object, or `chat.completion.chunk` events ending with `[DONE]`.',
  })
  async create(
    @Body() body: ChatCompletionRequestDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<unknown> {
    const abort = abortOnDisconnect(reply);
    const requestId = String(request.id);
    const { replayed, events, answer } = await this.completions.start(
      {
        principal: this.principal.get(),
        requestId,
        completionId: `chatcmpl-${requestId.replace(/[^A-Za-z0-9]/g, '').slice(0, 32)}`,
        idempotencyKey,
      },
      body,
      abort.signal,
    );
    if (replayed) reply.header('idempotent-replayed', 'true');
    if (!body.stream) {
      for await (const _ of events);
      return toCompletion(answer);
    }
    await streamChunks(events, answer, reply, Boolean(body.stream_options?.include_usage));
  }
}

/**
 * OpenAI's stream: unnamed `data:` events of `chat.completion.chunk`, then `[DONE]` as it is.
 * Errors before the first event answer as JSON; after that they end the stream.
 */
async function streamChunks(
  events: AsyncGenerator<Event>,
  answer: CompletionAnswer,
  reply: FastifyReply,
  includeUsage: boolean,
): Promise<void> {
  const first = await events.next();
  const sse = new SseStream(reply);
  const write = (data: unknown) => sse.data(typeof data === 'string' ? data : JSON.stringify(data));
  const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
    id: answer.id,
    object: 'chat.completion.chunk',
    created: answer.created,
    model: answer.model,
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    ...(includeUsage ? { usage: null } : {}),
  });
  try {
    for (let step = first; !step.done; step = await events.next()) {
      const e = step.value;
      if (e.type === 'start') write(chunk({ role: 'assistant', content: '' }, null));
      else if (e.type === 'delta') write(chunk({ content: e.text }, null));
      else if (e.type === 'tool_call') write(chunk({ tool_calls: [toolCallDelta(e)] }, null));
      else {
        write(chunk({}, openAiFinish(e.finishReason)));
        if (includeUsage) write({ ...chunk({}, null), choices: [], usage: usageOf(e.usage) });
      }
    }
    write('[DONE]');
  } catch (error) {
    const problem = toAppError(error);
    write({
      error: { message: problem.message, type: problem.code.toLowerCase(), code: problem.code },
    });
  } finally {
    sse.end();
  }
}

const toolCallDelta = (e: Extract<Event, { type: 'tool_call' }>) => ({
  index: e.index,
  ...(e.id ? { id: e.id, type: 'function' } : {}),
  function: { ...(e.name ? { name: e.name } : {}), arguments: e.arguments },
});
