import {
  Badge,
  Button,
  Group,
  Modal,
  PasswordInput,
  Select,
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
import { useSession } from '../auth/session';
import { PageTitle } from '../components/Layout';
import { applyFieldErrors, ErrorAlert, errorMessage } from '../lib/errors';
import { formatDateTime } from '../lib/format';
import { useCursorList } from '../lib/paging';
import { FormActions } from '../components/FormActions';

type User = Schemas['UserDto'];
type UserRole = User['role'];

const ROLES: { value: UserRole; label: string }[] = [
  { value: 'member', label: 'Member' },
  { value: 'admin', label: 'Tenant admin' },
];

/** The tenant's users (tenant admins): create, change role, disable and enable. */
export default function UsersPage() {
  const session = useSession();
  const ownId = session.status === 'authenticated' ? session.principal.userId : undefined;
  const queryClient = useQueryClient();
  const list = useCursorList<User>(['users'], (cursor) =>
    unwrap(api.GET('/v1/admin/users', { params: { query: { cursor } } })),
  );
  const [creating, setCreating] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['users'] });

  const update = useMutation({
    mutationFn: ({ user, patch }: { user: User; patch: Schemas['UpdateUserDto'] }) =>
      unwrap(api.PATCH('/v1/admin/users/{id}', { params: { path: { id: user.id } }, body: patch })),
    onSuccess: (user) => {
      notifications.show({
        color: 'green',
        message: `${user.name}: ${user.disabled ? 'disabled' : 'active'}, ${user.role}.`,
      });
      void refresh();
    },
    onError: (error) =>
      notifications.show({
        color: 'red',
        title: 'Could not change the user',
        message: errorMessage(error),
      }),
  });

  return (
    <Stack>
      <PageTitle>Users</PageTitle>
      <Group justify="space-between">
        <Text>Everyone who may log in to your tenant. A disabled user's sessions end at once.</Text>
        <Button onClick={() => setCreating(true)}>Create user</Button>
      </Group>
      <ErrorAlert error={list.error} title="Could not load the users" />
      <DataTable<User>
        aria-label="Users"
        withTableBorder
        minHeight={160}
        records={list.records}
        fetching={list.isFetching}
        noRecordsText="No users"
        columns={[
          { accessor: 'name', title: 'Name' },
          { accessor: 'email', title: 'Email' },
          {
            accessor: 'role',
            title: 'Role',
            render: (u) =>
              u.id === ownId || u.superadmin ? (
                <Text size="sm">{u.superadmin ? 'Superadmin' : 'Tenant admin (you)'}</Text>
              ) : (
                <Select
                  aria-label={`Role of ${u.name}`}
                  size="xs"
                  w={150}
                  allowDeselect={false}
                  data={ROLES}
                  value={u.role}
                  disabled={update.isPending && update.variables?.user.id === u.id}
                  onChange={(role) =>
                    role &&
                    role !== u.role &&
                    update.mutate({ user: u, patch: { role: role as UserRole } })
                  }
                />
              ),
          },
          {
            accessor: 'disabled',
            title: 'Status',
            render: (u) => (
              <Badge variant="dot" color={u.disabled ? 'red.9' : 'green.9'}>
                {u.disabled ? 'Disabled' : 'Active'}
              </Badge>
            ),
          },
          {
            accessor: 'lastLoginAt',
            title: 'Last login',
            render: (u) => formatDateTime(u.lastLoginAt),
          },
          {
            accessor: 'actions',
            title: 'Actions',
            textAlign: 'right',
            render: (u) =>
              u.id === ownId || u.superadmin ? null : (
                <Button
                  size="xs"
                  variant={u.disabled ? 'default' : 'outline'}
                  color={u.disabled ? undefined : 'red.9'}
                  aria-label={`${u.disabled ? 'Enable' : 'Disable'} ${u.name}`}
                  loading={update.isPending && update.variables?.user.id === u.id}
                  onClick={() => update.mutate({ user: u, patch: { disabled: !u.disabled } })}
                >
                  {u.disabled ? 'Enable' : 'Disable'}
                </Button>
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
      <CreateUserModal
        opened={creating}
        onClose={() => setCreating(false)}
        onCreated={(user) => {
          setCreating(false);
          notifications.show({ color: 'green', message: `${user.name} may now log in.` });
          void refresh();
        }}
      />
    </Stack>
  );
}

function CreateUserModal({
  opened,
  onClose,
  onCreated,
}: {
  opened: boolean;
  onClose: () => void;
  onCreated: (user: User) => void;
}) {
  const [error, setError] = useState<unknown>(null);
  const form = useForm({
    mode: 'uncontrolled',
    initialValues: { name: '', email: '', password: '', role: 'member' as UserRole },
    validate: {
      name: (v) => (v.trim() ? null : 'Give the user a name'),
      email: (v) => (/^[^\s@]+@[^\s@]+$/.test(v) ? null : 'Enter an email address'),
      password: (v) => (v.length >= 12 ? null : 'At least 12 characters'),
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
      const user = await unwrap(
        api.POST('/v1/admin/users', { body: { ...values, name: values.name.trim() } }),
      );
      form.reset();
      onCreated(user);
    } catch (e) {
      if (!applyFieldErrors(form, e, ['name', 'email', 'password', 'role'])) setError(e);
    }
  });
  return (
    <Modal opened={opened} onClose={close} title="Create a user">
      <form onSubmit={submit} noValidate>
        <Stack>
          <ErrorAlert error={error} title="Could not create the user" />
          <TextInput
            label="Name"
            required
            data-autofocus
            key={form.key('name')}
            {...form.getInputProps('name')}
          />
          <TextInput
            label="Email"
            type="email"
            required
            key={form.key('email')}
            {...form.getInputProps('email')}
          />
          <PasswordInput
            label="Password"
            description="12 to 128 characters; not a commonly used password"
            required
            key={form.key('password')}
            {...form.getInputProps('password')}
          />
          <Select
            label="Role"
            required
            allowDeselect={false}
            data={ROLES}
            key={form.key('role')}
            {...form.getInputProps('role')}
          />
          <FormActions onCancel={close} submitLabel="Create" submitting={form.submitting} />
        </Stack>
      </form>
    </Modal>
  );
}
