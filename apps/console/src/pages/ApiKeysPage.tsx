import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Code,
  CopyButton,
  Group,
  Modal,
  SegmentedControl,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { DataTable } from 'mantine-datatable';
import { useState } from 'react';
import { api, type Schemas, unwrap } from '../api/client';
import { hasRole, useSession } from '../auth/session';
import { PageTitle } from '../components/Layout';
import { applyFieldErrors, ErrorAlert, errorMessage } from '../lib/errors';
import { formatDateTime } from '../lib/format';
import { useCursorList } from '../lib/paging';
import { MEMBER_SCOPES, type Scope, SCOPE_INFO, SCOPES } from '../lib/scopes';
import { FormActions } from '../components/FormActions';

type ApiKey = Schemas['ApiKeyDto'];
type CreatedKey = Schemas['CreatedApiKeyDto'];

function status(key: ApiKey): { label: string; color: string } {
  if (key.revokedAt) return { label: 'Revoked', color: 'red.9' };
  if (key.expiresAt && Date.parse(key.expiresAt) <= Date.now())
    return { label: 'Expired', color: 'orange.9' };
  return { label: 'Active', color: 'green.9' };
}

/**
 * API keys: yours (admins may also see every key of the tenant), created with scopes, the
 * secret shown once; rotate and revoke.
 */
export default function ApiKeysPage() {
  const session = useSession();
  const admin = session.status === 'authenticated' && hasRole(session.principal, 'admin');
  const [view, setView] = useState<'mine' | 'tenant'>('mine');
  const tenantView = admin && view === 'tenant';
  const queryClient = useQueryClient();
  const list = useCursorList<ApiKey>(['api-keys', tenantView ? 'tenant' : 'mine'], (cursor) =>
    tenantView
      ? unwrap(api.GET('/v1/admin/api-keys', { params: { query: { cursor } } }))
      : unwrap(api.GET('/v1/api-keys', { params: { query: { cursor } } })),
  );
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<CreatedKey | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['api-keys'] });

  const rotate = useMutation({
    mutationFn: (key: ApiKey) =>
      unwrap(api.POST('/v1/api-keys/{id}/rotate', { params: { path: { id: key.id } } })),
    onSuccess: (created) => {
      setSecret(created);
      void refresh();
    },
    onError: (error) =>
      notifications.show({ color: 'red', title: 'Could not rotate', message: errorMessage(error) }),
  });
  const revoke = useMutation({
    mutationFn: (key: ApiKey) =>
      tenantView
        ? unwrap(api.DELETE('/v1/admin/api-keys/{id}', { params: { path: { id: key.id } } }))
        : unwrap(api.DELETE('/v1/api-keys/{id}', { params: { path: { id: key.id } } })),
    onSuccess: (_, key) => {
      setRevoking(null);
      notifications.show({ color: 'green', message: `The key “${key.name}” is revoked.` });
      void refresh();
    },
  });
  const ownId = session.status === 'authenticated' ? session.principal.userId : undefined;

  return (
    <Stack>
      <PageTitle>API keys</PageTitle>
      <Group justify="space-between">
        {admin ? (
          <SegmentedControl
            aria-label="Which keys"
            value={view}
            onChange={(v) => setView(v as 'mine' | 'tenant')}
            data={[
              { value: 'mine', label: 'My keys' },
              { value: 'tenant', label: 'All keys of the tenant' },
            ]}
          />
        ) : (
          <Text>Keys you created. Their secrets are never shown again after creation.</Text>
        )}
        <Button onClick={() => setCreating(true)}>Create API key</Button>
      </Group>
      <ErrorAlert error={list.error} title="Could not load the keys" />
      <DataTable<ApiKey>
        aria-label="API keys"
        withTableBorder
        minHeight={160}
        records={list.records}
        fetching={list.isFetching}
        noRecordsText="No API keys yet"
        columns={[
          { accessor: 'name', title: 'Name' },
          { accessor: 'prefix', title: 'Key', render: (k) => <Code>{k.prefix}…</Code> },
          {
            accessor: 'scopes',
            title: 'Scopes',
            render: (k) => (
              <Group gap={4}>
                {k.scopes.map((s) => (
                  <Badge key={s} variant="outline" color="gray.8" tt="none">
                    {s}
                  </Badge>
                ))}
              </Group>
            ),
          },
          {
            accessor: 'status',
            title: 'Status',
            render: (k) => {
              const s = status(k);
              return (
                <Badge variant="dot" color={s.color}>
                  {s.label}
                </Badge>
              );
            },
          },
          { accessor: 'createdAt', title: 'Created', render: (k) => formatDateTime(k.createdAt) },
          {
            accessor: 'lastUsedAt',
            title: 'Last used',
            render: (k) => formatDateTime(k.lastUsedAt),
          },
          {
            accessor: 'actions',
            title: 'Actions',
            textAlign: 'right',
            render: (k) =>
              k.revokedAt ? null : (
                <Group gap="xs" justify="flex-end" wrap="nowrap">
                  {k.createdBy === ownId && (
                    <Button
                      size="xs"
                      variant="default"
                      aria-label={`Rotate ${k.name}`}
                      loading={rotate.isPending && rotate.variables?.id === k.id}
                      onClick={() => rotate.mutate(k)}
                    >
                      Rotate
                    </Button>
                  )}
                  <Button
                    size="xs"
                    color="red.9"
                    variant="outline"
                    aria-label={`Revoke ${k.name}`}
                    onClick={() => {
                      revoke.reset();
                      setRevoking(k);
                    }}
                  >
                    Revoke
                  </Button>
                </Group>
              ),
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

      <CreateKeyModal
        opened={creating}
        scopes={admin ? SCOPES : MEMBER_SCOPES}
        onClose={() => setCreating(false)}
        onCreated={(created) => {
          setCreating(false);
          setSecret(created);
          void refresh();
        }}
      />
      <SecretModal created={secret} onClose={() => setSecret(null)} />
      <Modal opened={revoking !== null} onClose={() => setRevoking(null)} title="Revoke this key?">
        <Stack>
          <Text>
            Requests with “{revoking?.name}” fail from the next one on. This cannot be undone.
          </Text>
          <ErrorAlert error={revoke.error} title="Could not revoke" />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setRevoking(null)}>
              Cancel
            </Button>
            <Button
              color="red.9"
              loading={revoke.isPending}
              onClick={() => revoking && revoke.mutate(revoking)}
            >
              Revoke
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

function CreateKeyModal({
  opened,
  scopes,
  onClose,
  onCreated,
}: {
  opened: boolean;
  scopes: readonly Scope[];
  onClose: () => void;
  onCreated: (key: CreatedKey) => void;
}) {
  const [error, setError] = useState<unknown>(null);
  const form = useForm({
    mode: 'uncontrolled',
    initialValues: { name: '', scopes: ['chat'] as Scope[], expiresAt: '' },
    validate: {
      name: (v) => (v.trim() ? null : 'Give the key a name'),
      scopes: (v) => (v.length > 0 ? null : 'Choose at least one scope'),
    },
  });
  const close = () => {
    form.reset();
    setError(null);
    onClose();
  };
  const submit = form.onSubmit(async (values) => {
    setError(null);
    try {
      const created = await unwrap(
        api.POST('/v1/api-keys', {
          body: {
            name: values.name.trim(),
            scopes: values.scopes,
            ...(values.expiresAt ? { expiresAt: new Date(values.expiresAt).toISOString() } : {}),
          },
        }),
      );
      form.reset();
      onCreated(created);
    } catch (e) {
      if (!applyFieldErrors(form, e, ['name', 'scopes', 'expiresAt'])) setError(e);
    }
  });
  return (
    <Modal opened={opened} onClose={close} title="Create an API key">
      <form onSubmit={submit} noValidate>
        <Stack>
          <ErrorAlert error={error} title="Could not create the key" />
          <TextInput
            label="Name"
            description="What uses it, e.g. support-bot production"
            required
            data-autofocus
            key={form.key('name')}
            {...form.getInputProps('name')}
          />
          <Checkbox.Group
            label="Scopes"
            required
            key={form.key('scopes')}
            {...form.getInputProps('scopes')}
          >
            <Stack gap={6} mt={6}>
              {scopes.map((s) => (
                <Checkbox key={s} value={s} label={`${s}: ${SCOPE_INFO[s]}`} />
              ))}
            </Stack>
          </Checkbox.Group>
          <TextInput
            label="Expires"
            description="Optional: the key stops working on this day"
            type="date"
            key={form.key('expiresAt')}
            {...form.getInputProps('expiresAt')}
          />
          <FormActions onCancel={close} submitLabel="Create" submitting={form.submitting} />
        </Stack>
      </form>
    </Modal>
  );
}

/** The secret, this once: copy it now, it is never shown again. */
function SecretModal({ created, onClose }: { created: CreatedKey | null; onClose: () => void }) {
  return (
    <Modal opened={created !== null} onClose={onClose} title="Copy your new API key">
      {created && (
        <Stack>
          <Alert color="red" title="Shown only this once">
            Store it somewhere safe now: Parley keeps only a hash and cannot show it again.
          </Alert>
          <Text size="sm">
            {created.name} ({created.scopes.join(', ')})
          </Text>
          <Code block data-testid="api-key-secret">
            {created.key}
          </Code>
          <Group justify="flex-end">
            <CopyButton value={created.key}>
              {({ copied, copy }) => (
                <Button onClick={copy}>{copied ? 'Copied' : 'Copy key'}</Button>
              )}
            </CopyButton>
            <Button variant="default" onClick={onClose}>
              Done
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
