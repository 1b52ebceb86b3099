import { Body, Controller, Get, HttpCode, Post, Put } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authorize, CurrentPrincipal, RateLimit } from '@parley/auth';
import { CheckRequestDto, CheckResponseDto, GuardrailPolicyViewDto } from './dto/guardrails.dto';
import { GuardrailsService, type Verdict } from './guardrails.service';

/** For integrators testing their policy: what the guardrails would do with a text. */
@ApiTags('guardrails')
@RateLimit('chat')
@Authorize({ role: 'member', scope: 'chat' })
@Controller('v1/guardrails')
export class GuardrailsController {
  constructor(
    private readonly guardrails: GuardrailsService,
    private readonly principal: CurrentPrincipal,
  ) {}

  @Post('check')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Run the input or output checks of your tenant’s policy on a text (local detectors).',
  })
  @ApiOkResponse({ type: CheckResponseDto })
  async check(@Body() body: CheckRequestDto): Promise<Verdict> {
    const policy = await this.guardrails.policyFor(this.principal.get().tenantId);
    return body.direction === 'input'
      ? this.guardrails.checkInput(body.text, policy)
      : this.guardrails.checkOutput(body.text, policy);
  }
}

/** The tenant's guardrail policy. */
@ApiTags('admin')
@RateLimit('admin')
@Authorize({ role: 'admin', scope: 'admin' })
@Controller('v1/admin/guardrails')
export class GuardrailsAdminController {
  constructor(
    private readonly guardrails: GuardrailsService,
    private readonly principal: CurrentPrincipal,
  ) {}

  @Get()
  @ApiOperation({ summary: 'The policy in force for your tenant, and your override.' })
  @ApiOkResponse({ type: GuardrailPolicyViewDto })
  async get(): Promise<GuardrailPolicyViewDto> {
    const tenantId = this.principal.get().tenantId;
    return {
      policy: await this.guardrails.policyFor(tenantId),
      override: ((await this.guardrails.override(tenantId)) ?? {}) as Record<string, unknown>,
    };
  }

  @Put()
  @ApiOperation({
    summary:
      'Replace your tenant’s override: any part of config/guardrails.yaml, e.g. {"input":{"pii":{"action":"block"}}}; {} restores the defaults.',
  })
  @ApiBody({ schema: { type: 'object', example: { input: { pii: { action: 'block' } } } } })
  @ApiOkResponse({ type: GuardrailPolicyViewDto })
  async put(@Body() body: Record<string, unknown>): Promise<GuardrailPolicyViewDto> {
    const tenantId = this.principal.get().tenantId;
    const policy = await this.guardrails.setOverride(tenantId, body ?? {});
    return { policy, override: body ?? {} };
  }
}
