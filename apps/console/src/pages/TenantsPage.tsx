import { Button, Code, Group, Stack, Text } from '@mantine/core';
import { DataTable } from 'mantine-datatable';
import { api, type Schemas, unwrap } from '../api/client';
import { PageTitle } from '../components/Layout';
import { ErrorAlert } from '../lib/errors';
import { formatDateTime } from '../lib/format';
import { useCursorList } from '../lib/paging';

type Tenant = Schemas['TenantDto'];

/** Every tenant of the installation (superadmins). */
export default function TenantsPage() {
  const list = useCursorList<Tenant>(['tenants'], (cursor) =>
    unwrap(api.GET('/v1/admin/tenants', { params: { query: { cursor } } })),
  );
  return (
    <Stack>
      <PageTitle>Tenants</PageTitle>
      <Text>Every tenant of this installation; a user logs in to one by its name.</Text>
      <ErrorAlert error={list.error} title="Could not load the tenants" />
      <DataTable<Tenant>
        aria-label="Tenants"
        withTableBorder
        minHeight={160}
        records={list.records}
        fetching={list.isFetching}
        noRecordsText="No tenants"
        columns={[
          { accessor: 'name', title: 'Name', render: (t) => <Code>{t.name}</Code> },
          { accessor: 'displayName', title: 'Display name' },
          { accessor: 'createdAt', title: 'Created', render: (t) => formatDateTime(t.createdAt) },
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
