import { Module } from '@nestjs/common';
import { AuthModule } from '@parley/auth';
import { ToolsService } from './registry/tools.service';
import { ToolsAdminController } from './tools-admin.controller';

/** Tools for agents: tenant-defined HTTP tools, the built-ins, and the outbound call policy. */
@Module({
  imports: [AuthModule],
  controllers: [ToolsAdminController],
  providers: [ToolsService],
  exports: [ToolsService],
})
export class ToolsModule {}
