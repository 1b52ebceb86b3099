import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  Loader,
  Modal,
  Paper,
  Select,
  Stack,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { useRef, useState } from 'react';
import { ApiError, api, authorizedRequest, type Schemas, unwrap } from '../api/client';
import { PageTitle } from '../components/Layout';
import { applyFieldErrors, ErrorAlert, errorMessage } from '../lib/errors';
import { formatUsd } from '../lib/format';
import { FormActions } from '../components/FormActions';

type Conversation = Schemas['ConversationDto'];
type Message = Schemas['MessageDto'];

/** What the stream has said so far about the answer in progress. */
interface Streaming {
  question: string;
  text: string;
  model?: string;
}

/**
 * Chat with a conversation: the answer streams in over Server-Sent Events (a POST with
 * `Accept: text/event-stream`, read from fetch's ReadableStream: EventSource cannot POST).
 */
export default function PlaygroundPage() {
  const queryClient = useQueryClient();
  const conversations = useQuery({
    queryKey: ['conversations'],
    queryFn: () => unwrap(api.GET('/v1/conversations', { params: { query: { limit: 100 } } })),
  });
  const [conversationId, setConversationId] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const current = conversations.data?.items.find((c) => c.id === conversationId);
  return (
    <Stack>
      <PageTitle>Playground</PageTitle>
      <ErrorAlert error={conversations.error} title="Could not load your conversations" />
      <Group align="flex-end">
        <Select
          label="Conversation"
          placeholder={conversations.isPending ? 'Loading…' : 'Choose a conversation'}
          w={360}
          searchable
          data={(conversations.data?.items ?? []).map((c) => ({
            value: c.id,
            label: `${c.title ?? 'Untitled'} (${c.model})`,
          }))}
          value={conversationId}
          onChange={setConversationId}
        />
        <Button variant="default" onClick={() => setCreating(true)}>
          New conversation
        </Button>
      </Group>
      {current ? (
        <Chat key={current.id} conversation={current} />
      ) : (
        <Text>Choose a conversation, or start a new one, to chat.</Text>
      )}
      <NewConversationModal
        opened={creating}
        onClose={() => setCreating(false)}
        onCreated={(c) => {
          setCreating(false);
          queryClient.setQueryData(
            ['conversations'],
            (old: { items: Conversation[]; nextCursor: string | null } | undefined) => ({
              items: [c, ...(old?.items ?? [])],
              nextCursor: old?.nextCursor ?? null,
            }),
          );
          setConversationId(c.id);
        }}
      />
    </Stack>
  );
}

function Chat({ conversation }: { conversation: Conversation }) {
  const queryClient = useQueryClient();
  const key = ['conversations', conversation.id, 'messages'];
  const history = useQuery({
    queryKey: key,
    queryFn: () =>
      unwrap(
        api.GET('/v1/conversations/{id}/messages', {
          params: { path: { id: conversation.id }, query: { limit: 50 } },
        }),
      ),
  });
  const [content, setContent] = useState('');
  const [streaming, setStreaming] = useState<Streaming | null>(null);
  const [error, setError] = useState<unknown>(null);
  const abort = useRef<AbortController | null>(null);
  const messages = [...(history.data?.items ?? [])]
    .filter((m) => m.role !== 'system')
    .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));

  const send = async (question: string) => {
    setError(null);
    setStreaming({ question, text: '' });
    const controller = new AbortController();
    abort.current = controller;
    try {
      const response = await authorizedRequest(`/v1/conversations/${conversation.id}/messages`, {
        method: 'POST',
        headers: { accept: 'text/event-stream', 'content-type': 'application/json' },
        body: JSON.stringify({ content: question }),
        signal: controller.signal,
      });
      if (!response.ok || !response.body) {
        throw ApiError.from(response, await response.json().catch(() => null));
      }
      const events = response.body
        .pipeThrough(new TextDecoderStream())
        .pipeThrough(new EventSourceParserStream());
      for await (const event of events) {
        const data = JSON.parse(event.data) as Record<string, unknown>;
        if (event.event === 'delta')
          setStreaming((s) => s && { ...s, text: s.text + String(data.text ?? '') });
        else if (event.event === 'start')
          setStreaming(
            (s) => s && { ...s, model: typeof data.model === 'string' ? data.model : undefined },
          );
        else if (event.event === 'error')
          throw ApiError.from(new Response(null, { status: Number(data.status) || 500 }), data);
      }
      setContent('');
    } catch (e) {
      if (!(e instanceof DOMException && e.name === 'AbortError')) setError(e);
    } finally {
      abort.current = null;
      await queryClient.invalidateQueries({ queryKey: key });
      setStreaming(null);
    }
  };

  return (
    <Card withBorder>
      <Stack>
        <Group gap="xs">
          <Text fw={600}>{conversation.title ?? 'Untitled'}</Text>
          <Badge variant="outline" color="gray.8" tt="none">
            {conversation.model}
          </Badge>
        </Group>
        <ErrorAlert error={history.error} title="Could not load the messages" />
        <Stack gap="xs" aria-live="polite" data-testid="messages">
          {messages.map((m) => (
            <Bubble key={m.id} message={m} />
          ))}
          {streaming && (
            <>
              <Paper withBorder p="sm" bg="gray.0">
                <Text size="xs" c="dimmed">
                  You
                </Text>
                <Text style={{ whiteSpace: 'pre-wrap' }}>{streaming.question}</Text>
              </Paper>
              <Paper withBorder p="sm" data-testid="streaming-answer">
                <Group gap="xs">
                  <Text size="xs" c="dimmed">
                    Assistant{streaming.model ? ` (${streaming.model})` : ''}
                  </Text>
                  <Loader size="xs" aria-label="Answering" />
                </Group>
                <Text style={{ whiteSpace: 'pre-wrap' }}>{streaming.text}</Text>
              </Paper>
            </>
          )}
        </Stack>
        {error ? (
          <Alert color="red" title="The message was not answered" role="alert" data-testid="error">
            {errorMessage(error)}
          </Alert>
        ) : null}
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (content.trim() && !streaming) void send(content.trim());
          }}
        >
          <Stack gap="xs">
            <Textarea
              label="Message"
              autosize
              minRows={2}
              maxRows={8}
              value={content}
              onChange={(e) => setContent(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && !e.shiftKey) {
                  e.preventDefault();
                  e.currentTarget.form?.requestSubmit();
                }
              }}
            />
            <Group>
              <Button type="submit" disabled={!content.trim() || streaming !== null}>
                Send
              </Button>
              {streaming && (
                <Button variant="default" onClick={() => abort.current?.abort()}>
                  Stop
                </Button>
              )}
            </Group>
          </Stack>
        </form>
      </Stack>
    </Card>
  );
}

function Bubble({ message }: { message: Message }) {
  const user = message.role === 'user';
  return (
    <Paper withBorder p="sm" bg={user ? 'gray.0' : undefined} data-role={message.role}>
      <Group gap="xs">
        <Text size="xs" c="dimmed">
          {user ? 'You' : `Assistant${message.model ? ` (${message.model})` : ''}`}
        </Text>
        {!user && message.costUsd !== undefined && (
          <Text size="xs" c="dimmed">
            · {formatUsd(message.costUsd)}
          </Text>
        )}
        {message.status !== 'complete' && (
          <Badge size="xs" color="orange.9">
            {message.status}
          </Badge>
        )}
      </Group>
      <Text style={{ whiteSpace: 'pre-wrap' }}>{message.content}</Text>
    </Paper>
  );
}

function NewConversationModal({
  opened,
  onClose,
  onCreated,
}: {
  opened: boolean;
  onClose: () => void;
  onCreated: (c: Conversation) => void;
}) {
  const [error, setError] = useState<unknown>(null);
  const form = useForm({
    mode: 'uncontrolled',
    initialValues: { title: '', model: '' },
  });
  const close = () => {
    form.reset();
    setError(null);
    onClose();
  };
  const submit = form.onSubmit(async (values) => {
    setError(null);
    try {
      const c = await unwrap(
        api.POST('/v1/conversations', {
          body: {
            ...(values.title.trim() ? { title: values.title.trim() } : {}),
            ...(values.model.trim() ? { model: values.model.trim() } : {}),
          },
        }),
      );
      form.reset();
      onCreated(c);
    } catch (e) {
      if (!applyFieldErrors(form, e, ['title', 'model'])) setError(e);
    }
  });
  return (
    <Modal opened={opened} onClose={close} title="Start a conversation">
      <form onSubmit={submit} noValidate>
        <Stack>
          <ErrorAlert error={error} title="Could not start the conversation" />
          <TextInput
            label="Title"
            data-autofocus
            key={form.key('title')}
            {...form.getInputProps('title')}
          />
          <TextInput
            label="Model"
            description="A model alias such as default; the configured default when empty"
            key={form.key('model')}
            {...form.getInputProps('model')}
          />
          <FormActions onCancel={close} submitLabel="Start" submitting={form.submitting} />
        </Stack>
      </form>
    </Modal>
  );
}
