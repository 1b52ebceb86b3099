import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BullBoardAdapter } from '@bull-board/fastify';
import { type Principal, PrincipalResolver, readCredential } from '@parley/auth';
import { QUEUE_NAMES, QueueService } from '@parley/queue';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const QUEUE_BOARD_PATH = '/admin/queues';

/**
 * bull-board's UI at /admin/queues, for operators: every queue, its jobs and their failures.
 * It spans tenants, so only a superadmin may open it, with an access token or API key as a
 * Bearer header or as the password of HTTP Basic authentication (which a browser asks for).
 */
@Injectable()
export class QueueBoard implements OnApplicationBootstrap {
  private readonly logger = new Logger('QueueBoard');

  constructor(
    private readonly host: HttpAdapterHost,
    private readonly queues: QueueService,
    private readonly resolver: PrincipalResolver,
  ) {}

  // After Nest has set its own error and not-found handlers, which a plugin registered earlier
  // would stop from reaching the routes.
  async onApplicationBootstrap(): Promise<void> {
    const fastify = this.host.httpAdapter?.getInstance<FastifyInstance>();
    // The worker process has no HTTP server.
    if (!fastify?.register) return;
    const board = new BullBoardAdapter();
    board.setBasePath(QUEUE_BOARD_PATH);
    createBullBoard({
      queues: QUEUE_NAMES.map((n) => new BullMQAdapter(this.queues.queue(n) as unknown as Queue)),
      serverAdapter: board,
    });
    await fastify.register(async (scope) => {
      scope.addHook('onRequest', (request, reply) => this.authorize(request, reply));
      await scope.register(board.registerPlugin() as never, { prefix: QUEUE_BOARD_PATH });
    });
    this.logger.log(`queue board at ${QUEUE_BOARD_PATH}`);
  }

  private async authorize(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const authorization = request.headers.authorization ?? '';
    const basic = /^Basic\s+(\S+)$/i.exec(authorization)?.[1];
    const secret = basic
      ? Buffer.from(basic, 'base64').toString('utf8').split(':').slice(1).join(':')
      : undefined;
    const credential = readCredential(
      secret ? { authorization: `Bearer ${secret}` } : request.headers,
    );
    let principal: Principal | undefined;
    try {
      principal = credential ? await this.resolver.resolve(credential) : undefined;
    } catch {
      principal = undefined;
    }
    if (!principal) {
      await reply
        .status(401)
        .header('www-authenticate', 'Basic realm="Parley queues", charset="UTF-8"')
        .type('application/problem+json')
        .send({
          type: 'urn:parley:problem:unauthenticated',
          title: 'Unauthorized',
          status: 401,
          code: 'UNAUTHENTICATED',
          detail:
            'Sign in with a superadmin access token or API key (as the password of Basic authentication, or a Bearer header).',
        });
      return;
    }
    if (!principal.superadmin)
      await reply.status(403).type('application/problem+json').send({
        type: 'urn:parley:problem:forbidden',
        title: 'Forbidden',
        status: 403,
        code: 'FORBIDDEN',
        detail: 'The queue board spans every tenant: only a superadmin may open it.',
      });
  }
}
