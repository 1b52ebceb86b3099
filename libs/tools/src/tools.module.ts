import { Module } from '@nestjs/common';
import { AuthModule } from '@parley/auth';
import { RagModule } from '@parley/rag';
import { ToolsService } from './registry/tools.service';
import { ToolRunner } from './runner/tool-runner.service';
import { ToolsAdminController } from './tools-admin.controller';
import { ToolMetrics } from './tools.metrics';

/** Tools for agents: tenant-defined HTTP tools, the built-ins, and the outbound call policy. */
@Module({
  imports: [AuthModule, RagModule],
  controllers: [ToolsAdminController],
  providers: [ToolsService, ToolRunner, ToolMetrics],
  exports: [ToolsService, ToolRunner, ToolMetrics],
})
export class ToolsModule {}
