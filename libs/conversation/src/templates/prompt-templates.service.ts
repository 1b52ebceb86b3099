import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { AppConfig, ConfigError } from '@parley/core';
import { InvalidTemplateVariablesError, UnknownPromptTemplateError } from '../conversation.errors';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  checkVariables,
  type PromptTemplate,
  promptTemplateSchema,
  type RenderedPrompt,
  renderTemplate,
} from './prompt-template';

/** The templates of config/prompts/*.yaml, loaded and validated at boot. */
@Injectable()
export class PromptTemplates implements OnModuleInit {
  private readonly logger = new Logger('PromptTemplates');
  private readonly templates = new Map<string, PromptTemplate>();

  constructor(private readonly config: AppConfig) {}

  onModuleInit(): void {
    const dir = join(this.config.configDir, 'prompts');
    if (!existsSync(dir)) return;
    for (const file of readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()) {
      let raw: unknown;
      try {
        raw = parse(readFileSync(join(dir, file), 'utf8'));
      } catch (error) {
        throw new ConfigError(
          `prompts/${file}`,
          `is not valid YAML: ${(error as Error).message.split('\n')[0]}`,
        );
      }
      const parsed = promptTemplateSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new ConfigError(
          `prompts/${file}: ${issue.path.join('.') || '(root)'}`,
          issue.message,
        );
      }
      if (this.templates.has(parsed.data.name))
        throw new ConfigError(
          `prompts/${file}: name`,
          `template "${parsed.data.name}" is defined twice`,
        );
      this.templates.set(parsed.data.name, parsed.data);
    }
    if (this.templates.size > 0)
      this.logger.log(`prompt templates: ${[...this.templates.keys()].join(', ')}`);
  }

  /** Checks a conversation's choice of template and variables; throws a 400 that says what to fix. */
  validate(name: string, variables: Record<string, string>): void {
    const template = this.get(name);
    const problems = checkVariables(template, variables);
    if (problems.length > 0) {
      throw new InvalidTemplateVariablesError(problems);
    }
  }

  render(name: string, conversationId: string, variables: Record<string, string>): RenderedPrompt {
    return renderTemplate(this.get(name), conversationId, variables);
  }

  names(): string[] {
    return [...this.templates.keys()];
  }

  private get(name: string): PromptTemplate {
    const template = this.templates.get(name);
    if (!template) {
      throw new UnknownPromptTemplateError(name, this.names());
    }
    return template;
  }
}
