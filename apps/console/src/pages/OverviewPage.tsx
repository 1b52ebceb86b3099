import { BarChart } from '@mantine/charts';
import { Card, SimpleGrid, Skeleton, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import { hasRole, useSession } from '../auth/session';
import { PageTitle } from '../components/Layout';
import { BudgetCard } from '../components/BudgetCard';
import { ErrorAlert } from '../lib/errors';
import { formatCount, formatUsd, formatUsdShort } from '../lib/format';

/**
 * Spend, requests and tokens of the last 30 days (the tenant's for admins, your own for
 * members), daily spend as a chart, and every budget that applies with what is left of it.
 */
export default function OverviewPage() {
  const session = useSession();
  const admin = session.status === 'authenticated' && hasRole(session.principal, 'admin');
  const usage = useQuery({
    queryKey: ['usage', admin ? 'tenant' : 'own', 'day'],
    queryFn: () =>
      admin
        ? unwrap(api.GET('/v1/admin/usage', { params: { query: { groupBy: 'day' } } }))
        : unwrap(api.GET('/v1/usage', { params: { query: { groupBy: 'day' } } })),
  });
  const budgets = useQuery({
    queryKey: ['budgets', 'mine'],
    queryFn: () => unwrap(api.GET('/v1/usage/budgets')),
  });
  const totals = usage.data?.totals;
  const days = (usage.data?.items ?? []).map((row) => ({
    day: row.key.slice(0, 10),
    spend: Number(row.costUsd),
    requests: row.requests,
  }));

  return (
    <Stack>
      <PageTitle>Overview</PageTitle>
      <Text>
        {admin ? 'Your tenant' : 'You'}, over the last 30 days
        {usage.data ? ` (${usage.data.from.slice(0, 10)} to ${usage.data.to.slice(0, 10)})` : ''}.
      </Text>
      <ErrorAlert error={usage.error} title="Could not load usage" />
      <SimpleGrid cols={{ base: 1, sm: 3 }}>
        <Stat label="Spend" value={totals ? formatUsd(totals.costUsd) : undefined} />
        <Stat label="Requests" value={totals ? formatCount(totals.requests) : undefined} />
        <Stat
          label="Tokens"
          value={totals ? formatCount(totals.promptTokens + totals.completionTokens) : undefined}
        />
      </SimpleGrid>

      <Card withBorder>
        <Title order={2} size="h4" mb="sm">
          Daily spend (USD)
        </Title>
        {usage.isPending ? (
          <Skeleton h={260} />
        ) : days.length === 0 ? (
          <Text>No usage in this period yet.</Text>
        ) : (
          <BarChart
            h={260}
            data={days}
            dataKey="day"
            series={[{ name: 'spend', label: 'Spend (USD)', color: 'blue.8' }]}
            maxBarWidth={48}
            valueFormatter={formatUsdShort}
            aria-label="Daily spend in US dollars"
          />
        )}
      </Card>

      <Title order={2} size="h4">
        Budgets
      </Title>
      <ErrorAlert error={budgets.error} title="Could not load budgets" />
      {budgets.isPending ? (
        <Skeleton h={120} />
      ) : budgets.data && budgets.data.items.length > 0 ? (
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          {budgets.data.items.map((b) => (
            <BudgetCard key={`${b.scope}:${b.scopeId ?? ''}:${b.period}`} budget={b} />
          ))}
        </SimpleGrid>
      ) : (
        <Text>No budget applies to you.</Text>
      )}
    </Stack>
  );
}

function Stat({ label, value }: { label: string; value: string | undefined }) {
  return (
    <Card withBorder>
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      {value === undefined ? (
        <Skeleton h={32} mt={4} />
      ) : (
        <Text fz={28} fw={700} data-testid={`stat-${label.toLowerCase()}`}>
          {value}
        </Text>
      )}
    </Card>
  );
}
