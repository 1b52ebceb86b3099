import { ValidationFailedError } from '@parley/core';
import type { FastifyReply } from 'fastify';
import { toCsv, type UsageReport } from './usage-report.service';

const DAY_MS = 86_400_000;
const MAX_RANGE_DAYS = 400;

/** `from`/`to` of a usage query as dates: the last 30 days by default, at most ~13 months. */
export function usageRange(
  query: { from?: string; to?: string },
  now: Date,
): { from: Date; to: Date } {
  const to = query.to ? new Date(query.to) : now;
  const from = query.from ? new Date(query.from) : new Date(to.getTime() - 30 * DAY_MS);
  if (from >= to)
    throw new ValidationFailedError([{ field: 'from', messages: ['from must be before to'] }]);
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS)
    throw new ValidationFailedError([
      { field: 'from', messages: [`the range may span at most ${MAX_RANGE_DAYS} days`] },
    ]);
  return { from, to };
}

/** JSON by default; CSV when the client asks for `text/csv`. */
export function sendReport(
  accept: string | undefined,
  reply: FastifyReply,
  report: UsageReport,
): UsageReport | string {
  if (!accept?.includes('text/csv')) return report;
  reply.header('content-type', 'text/csv; charset=utf-8');
  reply.header('content-disposition', `attachment; filename="usage-${report.groupBy}.csv"`);
  return toCsv(report);
}
