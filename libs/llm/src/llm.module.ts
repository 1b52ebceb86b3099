import { Module } from '@nestjs/common';
import { LlmGateway } from './llm-gateway.service';
import { ModelRouter } from './model-router';
import { ProviderRegistry } from './provider-registry';

/** Talking to models. Knows nothing of conversations. */
@Module({
  providers: [ModelRouter, ProviderRegistry, LlmGateway],
  exports: [LlmGateway, ModelRouter],
})
export class LlmModule {}
