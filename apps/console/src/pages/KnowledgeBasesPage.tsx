import {
  Anchor,
  Badge,
  Button,
  Group,
  Modal,
  Select,
  Stack,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQueryClient } from '@tanstack/react-query';
import { DataTable } from 'mantine-datatable';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { api, type Schemas, unwrap } from '../api/client';
import { PageTitle } from '../components/Layout';
import { applyFieldErrors, ErrorAlert } from '../lib/errors';
import { formatCount, formatDateTime } from '../lib/format';
import { useCursorList } from '../lib/paging';
import { FormActions } from '../components/FormActions';

type KnowledgeBase = Schemas['KnowledgeBaseDto'];
type Access = KnowledgeBase['access'];
type Language = KnowledgeBase['language'];

const LANGUAGES: Language[] = [
  'english',
  'german',
  'french',
  'spanish',
  'italian',
  'dutch',
  'portuguese',
  'swedish',
  'danish',
  'norwegian',
  'finnish',
  'russian',
  'hungarian',
  'romanian',
  'turkish',
  'simple',
];

export const ACCESS_LABEL: Record<Access, string> = {
  private: 'Private',
  'tenant:read': 'Tenant may read',
  'tenant:write': 'Tenant may write',
};

/** The knowledge bases you may read; create one. */
export default function KnowledgeBasesPage() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const list = useCursorList<KnowledgeBase>(['knowledge-bases'], (cursor) =>
    unwrap(api.GET('/v1/knowledge-bases', { params: { query: { cursor } } })),
  );
  const [creating, setCreating] = useState(false);
  return (
    <Stack>
      <PageTitle>Knowledge bases</PageTitle>
      <Group justify="space-between">
        <Text>Documents that answers draw on, searched by words, by meaning or both.</Text>
        <Button onClick={() => setCreating(true)}>Create knowledge base</Button>
      </Group>
      <ErrorAlert error={list.error} title="Could not load the knowledge bases" />
      <DataTable<KnowledgeBase>
        aria-label="Knowledge bases"
        withTableBorder
        minHeight={160}
        records={list.records}
        fetching={list.isFetching}
        noRecordsText="No knowledge bases yet"
        columns={[
          {
            accessor: 'name',
            title: 'Name',
            render: (kb) => (
              <Anchor component={Link} to={`/knowledge-bases/${kb.id}`}>
                {kb.name}
              </Anchor>
            ),
          },
          { accessor: 'description', title: 'Description' },
          { accessor: 'chunkCount', title: 'Chunks', render: (kb) => formatCount(kb.chunkCount) },
          {
            accessor: 'access',
            title: 'Access',
            render: (kb) => (
              <Badge variant="outline" color="gray.8" tt="none">
                {ACCESS_LABEL[kb.access]}
              </Badge>
            ),
          },
          { accessor: 'permission', title: 'You may' },
          { accessor: 'updatedAt', title: 'Updated', render: (kb) => formatDateTime(kb.updatedAt) },
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
      <CreateModal
        opened={creating}
        onClose={() => setCreating(false)}
        onCreated={(kb) => {
          setCreating(false);
          void queryClient.invalidateQueries({ queryKey: ['knowledge-bases'] });
          void navigate(`/knowledge-bases/${kb.id}`);
        }}
      />
    </Stack>
  );
}

function CreateModal({
  opened,
  onClose,
  onCreated,
}: {
  opened: boolean;
  onClose: () => void;
  onCreated: (kb: KnowledgeBase) => void;
}) {
  const [error, setError] = useState<unknown>(null);
  const form = useForm({
    mode: 'uncontrolled',
    initialValues: { name: '', description: '', access: '', language: 'english' as Language },
    validate: { name: (v) => (v.trim() ? null : 'Give it a name') },
  });
  const close = () => {
    form.reset();
    setError(null);
    onClose();
  };
  const submit = form.onSubmit(async (values) => {
    setError(null);
    try {
      const kb = await unwrap(
        api.POST('/v1/knowledge-bases', {
          body: {
            name: values.name.trim(),
            language: values.language,
            ...(values.description.trim() ? { description: values.description.trim() } : {}),
            ...(values.access ? { access: values.access as Access } : {}),
          },
        }),
      );
      form.reset();
      onCreated(kb);
    } catch (e) {
      if (!applyFieldErrors(form, e, ['name', 'description', 'access', 'language'])) setError(e);
    }
  });
  return (
    <Modal opened={opened} onClose={close} title="Create a knowledge base">
      <form onSubmit={submit} noValidate>
        <Stack>
          <ErrorAlert error={error} title="Could not create the knowledge base" />
          <TextInput
            label="Name"
            required
            data-autofocus
            key={form.key('name')}
            {...form.getInputProps('name')}
          />
          <Textarea
            label="Description"
            key={form.key('description')}
            {...form.getInputProps('description')}
          />
          <Select
            label="Language"
            description="For stemming and stop words of lexical search"
            allowDeselect={false}
            data={LANGUAGES}
            key={form.key('language')}
            {...form.getInputProps('language')}
          />
          <Select
            label="Access"
            description="What everyone in your tenant may do with it (empty: the tenant's default)"
            clearable
            data={Object.entries(ACCESS_LABEL).map(([value, label]) => ({ value, label }))}
            key={form.key('access')}
            {...form.getInputProps('access')}
          />
          <FormActions onCancel={close} submitLabel="Create" submitting={form.submitting} />
        </Stack>
      </form>
    </Modal>
  );
}
