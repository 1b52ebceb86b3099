import {
  Body,
  Controller,
  Get,
  Headers,
  Param,
  ParseUUIDPipe,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import { Authorize, CurrentPrincipal, RateLimit } from '@parley/auth';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApprovalRules } from '../approvals/approval-rules.service';
import { ApprovalStore } from '../approvals/approval.store';
import { ConversationsService } from '../conversations.service';
import {
  DecideToolCallDto,
  ToolApprovalListDto,
  ToolApprovalWaitingDto,
  TurnDto,
} from '../dto/conversation.dto';
import { ChatTurns } from '../pipeline/chat-turns.service';
import { abortOnDisconnect } from '../pipeline/sse';
import { finalTurn, streamTurn } from './turn-events';

/**
 * Approvals of high-risk tool calls. An answer whose model asks for such a call stops with
 * status `awaiting_approval` and a `tool.approval_required` event per call; deciding the last
 * of them carries the answer on in the same request.
 */
@ApiTags('conversations')
@RateLimit('chat')
@Authorize({ role: 'member', scope: 'chat' })
@Controller('v1/conversations/:id/tool-approvals')
export class ToolApprovalsController {
  constructor(
    private readonly conversations: ConversationsService,
    private readonly approvals: ApprovalStore,
    private readonly rules: ApprovalRules,
    private readonly turns: ChatTurns,
    private readonly principal: CurrentPrincipal,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The high-risk tool calls of the conversation, newest first.' })
  @ApiOkResponse({ type: ToolApprovalListDto })
  @ApiNotFoundResponse({ description: '`NOT_FOUND`' })
  async list(@Param('id', ParseUUIDPipe) id: string): Promise<ToolApprovalListDto> {
    const conversation = await this.conversations.get(this.principal.get(), id);
    return { items: await this.approvals.list(conversation.id) };
  }

  @Post(':callId')
  @ApiOperation({
    summary: 'Approve or reject a high-risk tool call the model asked for.',
    description:
      'Whoever may use the conversation (its owner, or a tenant admin) may reject. Approving takes a person other than the one whose turn asked ' +
      'for the call (for a turn sent with an API key: other than the key’s creator): an API key gets 403 `TOOL_APPROVAL_BY_API_KEY`, ' +
      'the one who asked 403 `TOOL_SELF_APPROVAL`. The turn’s owner pays for the rest of the answer. ' +
      'While other calls of the same answer are undecided: 202 with those still pending. Deciding ' +
      'the last one runs the approved calls (the model is told of rejected ones) and finishes the ' +
      'answer: 200 with {userMessage, assistantMessage}, or with `Accept: text/event-stream` the ' +
      'events `tool.call`, `tool.result`, `start`, `delta`…, `usage`, `done` (or ' +
      '`tool.approval_required` again if the model asks for another such call). Repeating the ' +
      'decision already made is allowed; changing it is a 409 `TOOL_APPROVAL_DECIDED`; after ' +
      'TOOL_APPROVAL_TTL_SECONDS the answer has ended: 409 `TOOL_APPROVAL_EXPIRED`.',
  })
  @ApiProduces('application/json', 'text/event-stream')
  @ApiOkResponse({ type: TurnDto })
  @ApiAcceptedResponse({ type: ToolApprovalWaitingDto })
  @ApiNotFoundResponse({ description: '`NOT_FOUND`: no such conversation or call.' })
  @ApiConflictResponse({ description: '`TOOL_APPROVAL_DECIDED`, `TOOL_APPROVAL_EXPIRED`' })
  @ApiForbiddenResponse({
    description:
      '`TOOL_APPROVAL_BY_API_KEY`: an API key tried to approve (a person must). `TOOL_SELF_APPROVAL`: the one who asked for the call (or the creator of the API key that did) tried to approve it; another person must. `FORBIDDEN`: the credential may not chat.',
  })
  async decide(
    @Param('id', ParseUUIDPipe) id: string,
    @Param('callId') callId: string,
    @Body() body: DecideToolCallDto,
    @Headers('accept') accept: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TurnDto | ToolApprovalWaitingDto | void> {
    const principal = this.principal.get();
    const conversation = await this.conversations.get(principal, id);
    const decision = body.decision === 'approve' ? 'approved' : 'rejected';
    await this.rules.assertMayDecide(principal, conversation.id, callId.slice(0, 200), decision);
    const result = await this.approvals.decide(principal, conversation.id, callId.slice(0, 200), {
      decision,
      ...(body.reason ? { reason: body.reason } : {}),
    });
    if (result.kind === 'waiting') {
      reply.status(202);
      return { approval: result.approval, pending: result.pending };
    }
    const turn = this.turns.resume(conversation, result, abortOnDisconnect(reply).signal);
    if (!accept?.includes('text/event-stream')) {
      reply.status(200);
      return finalTurn(turn);
    }
    await streamTurn(turn, reply, String(request.id));
  }
}
