import {
  Anchor,
  Badge,
  Button,
  Card,
  FileInput,
  Group,
  Modal,
  NumberInput,
  Progress,
  SegmentedControl,
  Skeleton,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { DataTable } from 'mantine-datatable';
import { useEffect, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, type Schemas, unwrap } from '../api/client';
import { PageTitle } from '../components/Layout';
import { ErrorAlert, errorMessage } from '../lib/errors';
import { formatCount, formatDateTime } from '../lib/format';
import { useCursorList } from '../lib/paging';

type KnowledgeBase = Schemas['KnowledgeBaseDto'];
type Document = Schemas['DocumentDto'];
type SearchMode = NonNullable<Schemas['SearchDto']['mode']>;
type Result = Schemas['SearchResultDto'];

const STATUS_COLOR: Record<Document['status'], string> = {
  pending: 'gray.8',
  processing: 'blue.8',
  ready: 'green.9',
  failed: 'red.9',
};
const settled = (d: Document) => d.status === 'ready' || d.status === 'failed';

/** One knowledge base: its documents (uploaded, ingested, deleted) and a search playground. */
export default function KnowledgeBasePage() {
  const { id = '' } = useParams();
  const kb = useQuery({
    queryKey: ['knowledge-bases', id],
    queryFn: () => unwrap(api.GET('/v1/knowledge-bases/{id}', { params: { path: { id } } })),
  });
  return (
    <Stack>
      <Anchor component={Link} to="/knowledge-bases" size="sm">
        ← All knowledge bases
      </Anchor>
      <PageTitle>{kb.data ? `Knowledge base: ${kb.data.name}` : 'Knowledge base'}</PageTitle>
      <ErrorAlert error={kb.error} title="Could not load the knowledge base" />
      {kb.isPending ? <Skeleton h={200} /> : kb.data ? <Contents kb={kb.data} /> : null}
    </Stack>
  );
}

function Contents({ kb }: { kb: KnowledgeBase }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const canWrite = kb.permission !== 'read';
  // Status changes as the worker ingests: read the list again every second while any is not
  // ready (or failed), and stop polling once all are.
  const docs = useCursorList<Document>(
    ['knowledge-bases', kb.id, 'documents'],
    (cursor) =>
      unwrap(
        api.GET('/v1/knowledge-bases/{id}/documents', {
          params: { path: { id: kb.id }, query: { cursor } },
        }),
      ),
    { pollWhile: (records) => (records.every(settled) ? false : 1000) },
  );
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['knowledge-bases', kb.id] });
  // The knowledge base's chunk count changes as documents become ready.
  const readyCount = docs.records.filter((d) => d.status === 'ready').length;
  useEffect(() => {
    void queryClient.invalidateQueries({ queryKey: ['knowledge-bases', kb.id], exact: true });
  }, [queryClient, kb.id, readyCount]);
  const [deleting, setDeleting] = useState(false);

  const removeDoc = useMutation({
    mutationFn: (doc: Document) =>
      unwrap(
        api.DELETE('/v1/knowledge-bases/{id}/documents/{documentId}', {
          params: { path: { id: kb.id, documentId: doc.id } },
        }),
      ),
    onSuccess: (_, doc) => {
      notifications.show({ color: 'green', message: `“${doc.title}” is deleted.` });
      void refresh();
    },
    onError: (error) =>
      notifications.show({ color: 'red', title: 'Could not delete', message: errorMessage(error) }),
  });
  const reingest = useMutation({
    mutationFn: (doc: Document) =>
      unwrap(
        api.POST('/v1/knowledge-bases/{id}/documents/{documentId}/reingest', {
          params: { path: { id: kb.id, documentId: doc.id } },
        }),
      ),
    onSuccess: () => void refresh(),
    onError: (error) =>
      notifications.show({
        color: 'red',
        title: 'Could not re-ingest',
        message: errorMessage(error),
      }),
  });
  const removeKb = useMutation({
    mutationFn: () =>
      unwrap(api.DELETE('/v1/knowledge-bases/{id}', { params: { path: { id: kb.id } } })),
    onSuccess: () => {
      notifications.show({ color: 'green', message: `“${kb.name}” is deleted.` });
      void queryClient.invalidateQueries({ queryKey: ['knowledge-bases'] });
      void navigate('/knowledge-bases');
    },
  });

  return (
    <>
      <Group justify="space-between">
        <Text>
          {kb.description || 'No description.'} {formatCount(kb.chunkCount)} chunks; you may{' '}
          {kb.permission} it.
        </Text>
        {kb.permission === 'manage' && (
          <Button color="red.9" variant="outline" onClick={() => setDeleting(true)}>
            Delete knowledge base
          </Button>
        )}
      </Group>
      {canWrite && <Upload kb={kb} onUploaded={() => void refresh()} />}
      <Title order={2} size="h4">
        Documents
      </Title>
      <ErrorAlert error={docs.error} title="Could not load the documents" />
      <DataTable<Document>
        aria-label="Documents"
        withTableBorder
        minHeight={120}
        records={docs.records}
        noRecordsText="No documents yet"
        columns={[
          { accessor: 'title', title: 'Title' },
          { accessor: 'contentType', title: 'Type' },
          {
            accessor: 'status',
            title: 'Status',
            render: (d) => (
              <Badge
                variant="dot"
                color={STATUS_COLOR[d.status]}
                data-status={d.status}
                title={d.error ?? undefined}
              >
                {d.status}
              </Badge>
            ),
          },
          { accessor: 'chunkCount', title: 'Chunks', render: (d) => formatCount(d.chunkCount) },
          { accessor: 'sizeBytes', title: 'Bytes', render: (d) => formatCount(d.sizeBytes) },
          { accessor: 'updatedAt', title: 'Updated', render: (d) => formatDateTime(d.updatedAt) },
          {
            accessor: 'actions',
            title: 'Actions',
            textAlign: 'right',
            render: (d) =>
              canWrite ? (
                <Group gap="xs" justify="flex-end" wrap="nowrap">
                  <Button
                    size="xs"
                    variant="default"
                    aria-label={`Re-ingest ${d.title}`}
                    disabled={!settled(d)}
                    loading={reingest.isPending && reingest.variables?.id === d.id}
                    onClick={() => reingest.mutate(d)}
                  >
                    Re-ingest
                  </Button>
                  <Button
                    size="xs"
                    variant="outline"
                    color="red.9"
                    aria-label={`Delete ${d.title}`}
                    loading={removeDoc.isPending && removeDoc.variables?.id === d.id}
                    onClick={() => removeDoc.mutate(d)}
                  >
                    Delete
                  </Button>
                </Group>
              ) : null,
          },
        ]}
      />
      {docs.hasNextPage && (
        <Group justify="center">
          <Button
            variant="default"
            loading={docs.isFetchingNextPage}
            onClick={() => void docs.fetchNextPage()}
          >
            Load more
          </Button>
        </Group>
      )}
      <SearchPlayground kb={kb} />
      <Modal
        opened={deleting}
        onClose={() => setDeleting(false)}
        title="Delete this knowledge base?"
      >
        <Stack>
          <Text>“{kb.name}” and all its documents go for good.</Text>
          <ErrorAlert error={removeKb.error} title="Could not delete" />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setDeleting(false)}>
              Cancel
            </Button>
            <Button color="red.9" loading={removeKb.isPending} onClick={() => removeKb.mutate()}>
              Delete
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

/** Files are sent one by one as multipart uploads; each shows up as pending, then ready. */
function Upload({ kb, onUploaded }: { kb: KnowledgeBase; onUploaded: () => void }) {
  const [files, setFiles] = useState<File[]>([]);
  const [done, setDone] = useState(0);
  const [errors, setErrors] = useState<string[]>([]);
  const upload = useMutation({
    mutationFn: async (chosen: File[]) => {
      setDone(0);
      setErrors([]);
      for (const file of chosen) {
        const form = new FormData();
        form.append('file', file, file.name);
        try {
          await unwrap(
            api.POST('/v1/knowledge-bases/{id}/documents', {
              params: { path: { id: kb.id } },
              body: { file: file.name },
              bodySerializer: () => form,
            }),
          );
        } catch (e) {
          setErrors((all) => [...all, `${file.name}: ${errorMessage(e)}`]);
        }
        setDone((n) => n + 1);
        onUploaded();
      }
    },
    onSuccess: () => setFiles([]),
  });
  return (
    <Card withBorder>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (files.length > 0) upload.mutate(files);
        }}
      >
        <Stack>
          <FileInput
            label="Add documents"
            description="Plain text, Markdown, HTML, PDF, JSON or CSV; several at once"
            multiple
            clearable
            value={files}
            onChange={setFiles}
            error={errors.length > 0 ? errors.join(' ') : null}
          />
          {upload.isPending && (
            <Progress
              value={(done / Math.max(1, upload.variables?.length ?? 1)) * 100}
              aria-label={`Uploaded ${done} of ${upload.variables?.length ?? 0}`}
            />
          )}
          <Group>
            <Button type="submit" disabled={files.length === 0} loading={upload.isPending}>
              Upload
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}

interface Ranked extends Result {
  rank: number;
}

/** Searches as a chat turn's retrieval does: mode, top k, score and ranks of each chunk. */
function SearchPlayground({ kb }: { kb: KnowledgeBase }) {
  const [query, setQuery] = useState('');
  const [mode, setMode] = useState<SearchMode>('hybrid');
  const [topK, setTopK] = useState<number>(5);
  const search = useMutation({
    mutationFn: (body: Schemas['SearchDto']) =>
      unwrap(
        api.POST('/v1/knowledge-bases/{id}/search', { params: { path: { id: kb.id } }, body }),
      ),
  });
  const results: Ranked[] = (search.data?.results ?? []).map((r, i) => ({ ...r, rank: i + 1 }));
  return (
    <Card withBorder>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (query.trim()) search.mutate({ query: query.trim(), mode, topK });
        }}
      >
        <Stack>
          <Title order={2} size="h4">
            Search playground
          </Title>
          <Group align="flex-end">
            <TextInput
              label="Query"
              flex={1}
              value={query}
              onChange={(e) => setQuery(e.currentTarget.value)}
              error={search.error ? errorMessage(search.error) : null}
            />
            <NumberInput
              label="Top k"
              w={90}
              min={1}
              max={100}
              value={topK}
              onChange={(v) => typeof v === 'number' && setTopK(v)}
            />
            <SegmentedControl
              aria-label="Mode"
              value={mode}
              onChange={(v) => setMode(v as SearchMode)}
              data={[
                { value: 'hybrid', label: 'Hybrid' },
                { value: 'lexical', label: 'Lexical' },
                { value: 'vector', label: 'Vector' },
              ]}
            />
            <Button type="submit" loading={search.isPending} disabled={!query.trim()}>
              Search
            </Button>
          </Group>
          {search.data && (
            <Text size="sm" data-testid="search-mode">
              Ran as {search.data.mode} ({search.data.vectorStore}). {search.data.notice ?? ''}
            </Text>
          )}
          {search.data && (
            <DataTable<Ranked>
              aria-label="Search results"
              withTableBorder
              records={results}
              idAccessor="chunkId"
              noRecordsText="Nothing found"
              minHeight={results.length === 0 ? 120 : undefined}
              columns={[
                { accessor: 'rank', title: 'Rank' },
                { accessor: 'score', title: 'Score', render: (r) => r.score.toFixed(4) },
                {
                  accessor: 'ranks',
                  title: 'Ranks (lexical / vector)',
                  render: (r) => {
                    const ranks = (r.ranks ?? {}) as { lexical?: number; vector?: number };
                    return r.ranks ? `${ranks.lexical ?? '—'} / ${ranks.vector ?? '—'}` : '—';
                  },
                },
                { accessor: 'title', title: 'Document' },
                {
                  accessor: 'text',
                  title: 'Chunk',
                  render: (r) => (
                    <Text size="sm" lineClamp={4}>
                      {r.text}
                    </Text>
                  ),
                },
              ]}
            />
          )}
        </Stack>
      </form>
    </Card>
  );
}
