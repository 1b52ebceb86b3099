import { Module } from '@nestjs/common';
import { AuthModule } from '@parley/auth';
import { LlmModule } from '@parley/llm';
import { GuardrailsAdminController, GuardrailsController } from './guardrails.controller';
import { GuardrailMetrics } from './guardrails.metrics';
import { GuardrailsService } from './guardrails.service';

/** Detectors and the policy engine for what goes into the model and what comes out. */
@Module({
  imports: [AuthModule, LlmModule],
  controllers: [GuardrailsController, GuardrailsAdminController],
  providers: [GuardrailsService, GuardrailMetrics],
  exports: [GuardrailsService, GuardrailMetrics],
})
export class GuardrailsModule {}
