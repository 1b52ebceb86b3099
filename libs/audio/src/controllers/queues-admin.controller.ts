import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authorize } from '@parley/auth';
import { QUEUE_NAMES, QueueService } from '@parley/queue';
import { QUEUE_BOARD_PATH } from './queue-board.service';

const STATES = ['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'] as const;

/** Queue overview for the admin console; the full board is at /admin/queues. */
@ApiTags('admin')
@Authorize({ role: 'admin', superadmin: true })
@Controller('v1/admin/queues')
export class QueuesAdminController {
  constructor(private readonly queues: QueueService) {}

  @Get()
  @ApiOperation({
    summary: 'Jobs per state in every queue (superadmin; across tenants).',
    description: `Also browsable with bull-board at ${QUEUE_BOARD_PATH}.`,
  })
  @ApiOkResponse({
    schema: {
      example: {
        items: [{ name: 'audio.tts', counts: { waiting: 0, active: 1, failed: 0 } }],
        board: QUEUE_BOARD_PATH,
      },
    },
  })
  async list(): Promise<{
    items: { name: string; counts: Record<string, number> }[];
    board: string;
  }> {
    const items = await Promise.all(
      QUEUE_NAMES.map(async (name) => ({
        name,
        counts: await this.queues.queue(name).getJobCounts(...STATES),
      })),
    );
    return { items, board: QUEUE_BOARD_PATH };
  }
}
