import { Module } from '@nestjs/common';
import { LlmGateway } from './llm-gateway.service';
import { ModelRouter } from './model-router.service';
import { ProviderRegistry } from './provider.registry';
import { OpenAiCompatibleModels } from './adapters/openai-compatible.adapter';
import { ChatModelFactory } from './ports/chat-model.port';

/** Talking to models. Knows nothing of conversations. */
@Module({
  providers: [
    ModelRouter,
    ProviderRegistry,
    LlmGateway,
    { provide: ChatModelFactory, useClass: OpenAiCompatibleModels },
  ],
  exports: [LlmGateway, ModelRouter],
})
export class LlmModule {}
