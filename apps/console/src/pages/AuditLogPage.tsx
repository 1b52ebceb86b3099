import { Button, Code, Group, Select, Stack, Text, Tooltip } from '@mantine/core';
import { DataTable } from 'mantine-datatable';
import { useState } from 'react';
import { api, type Schemas, unwrap } from '../api/client';
import { PageTitle } from '../components/Layout';
import { ErrorAlert } from '../lib/errors';
import { formatDateTime } from '../lib/format';
import { useCursorList } from '../lib/paging';

type AuditEntry = Schemas['AuditLogDto'];
type AuditAction = AuditEntry['action'];

/** Every action the audit log records. The type check fails when the API adds one not here. */
const ACTIONS = {
  'auth.login.succeeded': 'Login succeeded',
  'auth.login.failed': 'Login failed',
  'auth.login.locked': 'Account locked',
  'auth.refresh.reused': 'Refresh token reused',
  'auth.logout': 'Logout',
  'auth.password.changed': 'Password changed',
  'apikey.created': 'API key created',
  'apikey.revoked': 'API key revoked',
  'apikey.rotated': 'API key rotated',
  'user.created': 'User created',
  'user.role_changed': 'Role changed',
  'user.disabled': 'User disabled',
  'user.enabled': 'User enabled',
  'tenant.created': 'Tenant created',
  'budget.updated': 'Budget updated',
  'budget.threshold_crossed': 'Budget threshold crossed',
  'budget.exhausted': 'Budget exhausted',
  'budget.fail_open': 'Budget store failed open',
  'pricing.updated': 'Pricing updated',
  'cost.settings_updated': 'Cost settings updated',
  'guardrail.blocked': 'Guardrail blocked',
  'guardrail.policy_updated': 'Guardrail policy updated',
  'tool.created': 'Tool created',
  'tool.updated': 'Tool updated',
  'tool.deleted': 'Tool deleted',
  'tool.settings_updated': 'Tool settings updated',
  'tool.call_approved': 'Tool call approved',
  'tool.call_rejected': 'Tool call rejected',
  'knowledge_base.access_changed': 'Knowledge base access changed',
  'knowledge_base.settings_updated': 'Knowledge base settings updated',
} as const satisfies Record<AuditAction, string>;

const ACTION_OPTIONS = Object.entries(ACTIONS).map(([value, label]) => ({
  value,
  label: `${label} (${value})`,
}));

const short = (id: string | null) => (id ? `${id.slice(0, 8)}…` : '—');

/** The tenant's audit log, newest first, filtered by action, a page at a time. */
export default function AuditLogPage() {
  const [action, setAction] = useState<AuditAction | null>(null);
  const list = useCursorList<AuditEntry>(['audit-log', action], (cursor) =>
    unwrap(
      api.GET('/v1/admin/audit-logs', {
        params: { query: { cursor, ...(action ? { action } : {}) } },
      }),
    ),
  );
  return (
    <Stack>
      <PageTitle>Audit log</PageTitle>
      <Group align="flex-end">
        <Select
          label="Action"
          placeholder="Every action"
          data={ACTION_OPTIONS}
          value={action}
          onChange={(v) => setAction(v as AuditAction | null)}
          searchable
          clearable
          w={380}
        />
        <Text size="sm" c="dimmed">
          Newest first. Secrets are never recorded.
        </Text>
      </Group>
      <ErrorAlert error={list.error} title="Could not load the audit log" />
      <DataTable<AuditEntry>
        aria-label="Audit log"
        withTableBorder
        minHeight={160}
        records={list.records}
        fetching={list.isFetching}
        noRecordsText="Nothing recorded"
        columns={[
          { accessor: 'createdAt', title: 'Time', render: (e) => formatDateTime(e.createdAt) },
          {
            accessor: 'action',
            title: 'Action',
            render: (e) => (
              <Tooltip label={e.action}>
                <Text size="sm" data-action={e.action}>
                  {ACTIONS[e.action] ?? e.action}
                </Text>
              </Tooltip>
            ),
          },
          {
            accessor: 'actor',
            title: 'Actor',
            render: (e) =>
              e.actorApiKeyId
                ? `key ${short(e.actorApiKeyId)}`
                : e.actorUserId
                  ? `user ${short(e.actorUserId)}`
                  : '—',
          },
          {
            accessor: 'target',
            title: 'Target',
            render: (e) => (e.targetType ? `${e.targetType} ${short(e.targetId)}` : '—'),
          },
          { accessor: 'ip', title: 'IP', render: (e) => e.ip ?? '—' },
          {
            accessor: 'requestId',
            title: 'Request id',
            render: (e) => (e.requestId ? <Code>{e.requestId}</Code> : '—'),
          },
        ]}
      />
      {list.hasNextPage && (
        <Group justify="center">
          <Button
            variant="default"
            loading={list.isFetchingNextPage}
            onClick={() => void list.fetchNextPage()}
          >
            Load more
          </Button>
        </Group>
      )}
    </Stack>
  );
}
