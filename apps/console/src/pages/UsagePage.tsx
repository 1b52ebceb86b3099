import { BarChart } from '@mantine/charts';
import {
  Button,
  Card,
  Group,
  SegmentedControl,
  Skeleton,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useQuery } from '@tanstack/react-query';
import { DataTable } from 'mantine-datatable';
import { useState } from 'react';
import { api, type Schemas, unwrap } from '../api/client';
import { hasRole, useSession } from '../auth/session';
import { PageTitle } from '../components/Layout';
import { ErrorAlert, errorMessage, fieldError } from '../lib/errors';
import { formatCount, formatUsd, formatUsdShort } from '../lib/format';

type Row = Schemas['UsageRowDto'];
type GroupBy = Schemas['UsageReportDto']['groupBy'];

const DAY_MS = 86_400_000;
const isoDay = (d: Date) => d.toISOString().slice(0, 10);

const GROUP_LABEL: Record<GroupBy, string> = {
  day: 'Day',
  model: 'Model',
  user: 'User',
  apiKey: 'API key',
};

/**
 * Usage and cost over a date range (the tenant's for admins, your own otherwise): daily spend as
 * a chart, a table grouped by day, model, user or key, and the same report as CSV.
 */
export default function UsagePage() {
  const session = useSession();
  const admin = session.status === 'authenticated' && hasRole(session.principal, 'admin');
  const today = new Date();
  const [from, setFrom] = useState(isoDay(new Date(today.getTime() - 29 * DAY_MS)));
  const [to, setTo] = useState(isoDay(today));
  const [groupBy, setGroupBy] = useState<GroupBy>('day');
  // Whole days: from the start of `from` to the end of `to` (the API's `to` is exclusive).
  const range = {
    from: from ? `${from}T00:00:00.000Z` : undefined,
    to: to ? new Date(Date.parse(`${to}T00:00:00.000Z`) + DAY_MS).toISOString() : undefined,
  };
  const fetchReport = (by: GroupBy) =>
    admin
      ? unwrap(api.GET('/v1/admin/usage', { params: { query: { ...range, groupBy: by } } }))
      : unwrap(
          api.GET('/v1/usage', {
            params: { query: { ...range, groupBy: by === 'model' ? 'model' : 'day' } },
          }),
        );
  const report = useQuery({
    queryKey: ['usage', admin ? 'tenant' : 'own', groupBy, range.from, range.to],
    queryFn: () => fetchReport(groupBy),
  });
  const daily = useQuery({
    queryKey: ['usage', admin ? 'tenant' : 'own', 'day', range.from, range.to],
    queryFn: () => fetchReport('day'),
  });
  const [downloading, setDownloading] = useState(false);

  const downloadCsv = async () => {
    setDownloading(true);
    try {
      const query = { ...range, groupBy };
      const { data, error, response } = admin
        ? await api.GET('/v1/admin/usage', {
            params: { query },
            headers: { accept: 'text/csv' },
            parseAs: 'text',
          })
        : await api.GET('/v1/usage', {
            params: { query: { ...range, groupBy: groupBy === 'model' ? 'model' : 'day' } },
            headers: { accept: 'text/csv' },
            parseAs: 'text',
          });
      if (!response.ok || data === undefined) throw new Error(String(error ?? response.status));
      const url = URL.createObjectURL(new Blob([data], { type: 'text/csv' }));
      const link = document.createElement('a');
      link.href = url;
      link.download = `usage-${groupBy}-${from}-to-${to}.csv`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      notifications.show({ color: 'red', title: 'Could not export', message: errorMessage(e) });
    } finally {
      setDownloading(false);
    }
  };

  const days = (daily.data?.items ?? []).map((row) => ({
    day: row.key.slice(0, 10),
    spend: Number(row.costUsd),
  }));
  const totals = report.data?.totals;
  const groups: GroupBy[] = admin ? ['day', 'model', 'user', 'apiKey'] : ['day', 'model'];

  return (
    <Stack>
      <PageTitle>Usage and cost</PageTitle>
      <Group align="flex-end">
        <TextInput
          label="From"
          type="date"
          value={from}
          max={to}
          onChange={(e) => setFrom(e.currentTarget.value)}
          error={fieldError(report.error, 'from')}
        />
        <TextInput
          label="To"
          type="date"
          value={to}
          min={from}
          onChange={(e) => setTo(e.currentTarget.value)}
          error={fieldError(report.error, 'to')}
        />
        <SegmentedControl
          aria-label="Group by"
          value={groupBy}
          onChange={(v) => setGroupBy(v as GroupBy)}
          data={groups.map((g) => ({ value: g, label: GROUP_LABEL[g] }))}
        />
        <Button variant="default" loading={downloading} onClick={() => void downloadCsv()}>
          Download CSV
        </Button>
      </Group>
      {!fieldError(report.error, 'from') && !fieldError(report.error, 'to') && (
        <ErrorAlert error={report.error} title="Could not load usage" />
      )}
      <Card withBorder>
        <Title order={2} size="h4" mb="sm">
          Daily spend (USD)
        </Title>
        {daily.isPending ? (
          <Skeleton h={240} />
        ) : days.length === 0 ? (
          <Text>No usage in this period.</Text>
        ) : (
          <BarChart
            h={240}
            data={days}
            dataKey="day"
            series={[{ name: 'spend', label: 'Spend (USD)', color: 'blue.8' }]}
            maxBarWidth={48}
            valueFormatter={formatUsdShort}
            role="img"
            aria-label="Daily spend in US dollars"
          />
        )}
      </Card>
      <DataTable<Row>
        aria-label="Usage"
        withTableBorder
        minHeight={120}
        records={report.data?.items ?? []}
        idAccessor="key"
        fetching={report.isFetching}
        noRecordsText="No usage in this period"
        columns={[
          {
            accessor: 'key',
            title: GROUP_LABEL[groupBy],
            render: (r) => (groupBy === 'day' ? r.key.slice(0, 10) : r.key),
            footer: 'Total',
          },
          {
            accessor: 'requests',
            title: 'Requests',
            textAlign: 'right',
            render: (r) => formatCount(r.requests),
            footer: totals ? formatCount(totals.requests) : '',
          },
          {
            accessor: 'promptTokens',
            title: 'Prompt tokens',
            textAlign: 'right',
            render: (r) => formatCount(r.promptTokens),
            footer: totals ? formatCount(totals.promptTokens) : '',
          },
          {
            accessor: 'completionTokens',
            title: 'Completion tokens',
            textAlign: 'right',
            render: (r) => formatCount(r.completionTokens),
            footer: totals ? formatCount(totals.completionTokens) : '',
          },
          {
            accessor: 'costUsd',
            title: 'Cost',
            textAlign: 'right',
            render: (r) => formatUsd(r.costUsd),
            footer: totals ? formatUsd(totals.costUsd) : '',
          },
        ]}
      />
    </Stack>
  );
}
