import { Card, Group, Progress, Text } from '@mantine/core';
import type { Schemas } from '../api/client';
import { formatDateTime, formatUsd } from '../lib/format';

type Budget = Schemas['BudgetStatusDto'];

const SCOPE_LABEL: Record<Budget['scope'], string> = {
  global: 'Whole installation',
  tenant: 'Tenant',
  user: 'You',
  apiKey: 'API key',
};

/** `user` names whose budget a `user` scope is (default: you). */
export function BudgetCard({ budget, user = 'You' }: { budget: Budget; user?: string }) {
  const limit = Number(budget.limitUsd);
  const used = Number(budget.spentUsd) + Number(budget.reservedUsd);
  const percent = limit > 0 ? Math.min(100, (used / limit) * 100) : 100;
  const scope = budget.scope === 'user' ? user : SCOPE_LABEL[budget.scope];
  const label = `${scope} · per ${budget.period}`;
  return (
    <Card withBorder>
      <Group justify="space-between" mb="xs">
        <Text fw={600}>{label}</Text>
        <Text size="sm">{formatUsd(budget.limitUsd)}</Text>
      </Group>
      <Progress
        value={percent}
        color={percent >= 90 ? 'red.8' : percent >= 75 ? 'orange.9' : 'blue.8'}
        aria-label={`${label}: ${Math.round(percent)}% used`}
      />
      <Group justify="space-between" mt="xs">
        <Text size="sm">
          Spent {formatUsd(budget.spentUsd)}, reserved {formatUsd(budget.reservedUsd)}
        </Text>
        <Text size="sm">Left {formatUsd(budget.remainingUsd)}</Text>
      </Group>
      <Text size="xs" c="dimmed" mt={4}>
        Resets {formatDateTime(budget.resetsAt)}
      </Text>
    </Card>
  );
}
