import {
  Badge,
  Button,
  Card,
  Group,
  Mark,
  NumberInput,
  SegmentedControl,
  Select,
  Skeleton,
  Stack,
  Text,
  Textarea,
  Title,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { DataTable } from 'mantine-datatable';
import { type ReactNode, useState } from 'react';
import { api, type Schemas, unwrap } from '../api/client';
import { hasRole, useSession } from '../auth/session';
import { PageTitle } from '../components/Layout';
import { ErrorAlert, errorMessage } from '../lib/errors';

type Direction = Schemas['CheckRequestDto']['direction'];
type Finding = Schemas['FindingDto'];
type Verdict = Schemas['CheckResponseDto'];

/** One detector's settings in the policy (config/guardrails.yaml): its action and threshold. */
interface DetectorRule {
  action: string;
  threshold?: number;
  [setting: string]: unknown;
}
type Policy = Partial<Record<Direction, Record<string, DetectorRule>>>;

interface Row {
  id: string;
  direction: Direction;
  detector: string;
  rule: DetectorRule;
}

const DETECTOR_NAMES: Record<Finding['detector'], string> = {
  prompt_injection: 'Prompt injection',
  pii: 'Personal data (PII)',
  toxicity: 'Toxicity',
  off_topic: 'Off topic',
  prompt_leak: 'Prompt leak',
};
const detectorName = (d: string) => DETECTOR_NAMES[d as Finding['detector']] ?? d;

const ACTIONS = ['off', 'flag', 'redact', 'block'] as const;
const DECISION_COLOR: Record<Verdict['decision'], string> = {
  allow: 'green.9',
  flag: 'yellow.9',
  redact: 'orange.9',
  block: 'red.9',
};

/**
 * The tenant's guardrail policy per direction and detector (admins edit their override), and a
 * "try it" box that runs the same checks as a chat turn and marks each finding in the text.
 */
export default function GuardrailsPage() {
  const session = useSession();
  const admin = session.status === 'authenticated' && hasRole(session.principal, 'admin');
  return (
    <Stack>
      <PageTitle>Guardrails</PageTitle>
      <TryIt />
      {admin && <PolicyEditor />}
    </Stack>
  );
}

function PolicyEditor() {
  const queryClient = useQueryClient();
  const view = useQuery({
    queryKey: ['guardrails', 'policy'],
    queryFn: () => unwrap(api.GET('/v1/admin/guardrails')),
  });
  const [edits, setEdits] = useState<Record<string, DetectorRule>>({});
  const policy = (view.data?.policy ?? {}) as Policy;
  const override = (view.data?.override ?? {}) as Policy;
  const rows: Row[] = (['input', 'output'] as const).flatMap((direction) =>
    Object.entries(policy[direction] ?? {}).map(([detector, rule]) => ({
      id: `${direction}.${detector}`,
      direction,
      detector,
      rule: edits[`${direction}.${detector}`] ?? rule,
    })),
  );
  const edit = (row: Row, change: Partial<DetectorRule>) =>
    setEdits((all) => ({ ...all, [row.id]: { ...row.rule, ...change } }));

  const save = useMutation({
    mutationFn: () => {
      const next: Policy = { ...override };
      for (const [id, rule] of Object.entries(edits)) {
        const [direction, detector] = id.split('.') as [Direction, string];
        const { action, threshold } = rule;
        next[direction] = {
          ...next[direction],
          [detector]: {
            ...next[direction]?.[detector],
            action,
            ...(threshold === undefined ? {} : { threshold }),
          },
        };
      }
      // The body is any part of config/guardrails.yaml; the document types it as a bare object.
      return unwrap(api.PUT('/v1/admin/guardrails', { body: next as Record<string, never> }));
    },
    onSuccess: (saved) => {
      queryClient.setQueryData(['guardrails', 'policy'], saved);
      setEdits({});
      notifications.show({ color: 'green', message: 'The guardrail policy is saved.' });
    },
  });
  const reset = useMutation({
    mutationFn: () => unwrap(api.PUT('/v1/admin/guardrails', { body: {} })),
    onSuccess: (saved) => {
      queryClient.setQueryData(['guardrails', 'policy'], saved);
      setEdits({});
      notifications.show({ color: 'green', message: 'The defaults apply again.' });
    },
  });
  const changed = Object.keys(edits).length > 0;

  return (
    <Card withBorder>
      <Stack>
        <Group justify="space-between">
          <Title order={2} size="h4">
            Policy of your tenant
          </Title>
          <Group gap="xs">
            <Button
              variant="default"
              disabled={Object.keys(override).length === 0}
              loading={reset.isPending}
              onClick={() => reset.mutate()}
            >
              Restore defaults
            </Button>
            <Button disabled={!changed} loading={save.isPending} onClick={() => save.mutate()}>
              Save policy
            </Button>
          </Group>
        </Group>
        <Text size="sm">
          Off, flag (record it), redact (personal data only: replaced before the model or the client
          sees it) or block (refused with 422 GUARDRAIL_BLOCKED). Thresholds are scores from 0 to 1.
        </Text>
        <ErrorAlert error={view.error} title="Could not load the policy" />
        <ErrorAlert error={save.error ?? reset.error} title="Could not save the policy" />
        {view.isPending ? (
          <Skeleton h={200} />
        ) : (
          <DataTable<Row>
            aria-label="Guardrail policy"
            withTableBorder
            records={rows}
            columns={[
              { accessor: 'direction', title: 'Direction', render: (r) => r.direction },
              { accessor: 'detector', title: 'Detector', render: (r) => detectorName(r.detector) },
              {
                accessor: 'action',
                title: 'Action',
                render: (r) => (
                  <Select
                    size="xs"
                    w={120}
                    aria-label={`Action of ${detectorName(r.detector)} on ${r.direction}`}
                    allowDeselect={false}
                    data={ACTIONS.filter((a) => a !== 'redact' || r.detector === 'pii')}
                    value={r.rule.action}
                    onChange={(action) => action && edit(r, { action })}
                  />
                ),
              },
              {
                accessor: 'threshold',
                title: 'Threshold',
                render: (r) =>
                  typeof r.rule.threshold === 'number' ? (
                    <NumberInput
                      size="xs"
                      w={100}
                      aria-label={`Threshold of ${detectorName(r.detector)} on ${r.direction}`}
                      min={0}
                      max={1}
                      step={0.05}
                      decimalScale={2}
                      value={r.rule.threshold}
                      onChange={(v) => typeof v === 'number' && edit(r, { threshold: v })}
                    />
                  ) : (
                    '—'
                  ),
              },
              {
                accessor: 'override',
                title: 'Source',
                render: (r) =>
                  override[r.direction]?.[r.detector] ? (
                    <Badge variant="outline" color="blue.8">
                      Override
                    </Badge>
                  ) : (
                    <Badge variant="outline" color="gray.8">
                      Default
                    </Badge>
                  ),
              },
            ]}
          />
        )}
      </Stack>
    </Card>
  );
}

/** The text with each finding's span marked (findings without a span are listed only). */
function MarkedText({ text, findings }: { text: string; findings: Finding[] }) {
  const spans = findings
    .filter((f) => typeof f.start === 'number' && typeof f.end === 'number' && f.end > f.start)
    .sort((a, b) => a.start! - b.start!);
  const parts: ReactNode[] = [];
  let at = 0;
  for (const f of spans) {
    if (f.start! < at) continue; // overlapping spans: the first one wins
    if (f.start! > at) parts.push(text.slice(at, f.start));
    parts.push(
      <Mark
        key={`${f.start}-${f.end}`}
        color={f.action === 'block' ? 'red' : 'yellow'}
        data-finding={f.type}
        title={`${detectorName(f.detector)}: ${f.type}`}
      >
        {text.slice(f.start, f.end)}
      </Mark>,
    );
    at = f.end!;
  }
  parts.push(text.slice(at));
  return (
    <Text data-testid="checked-text" style={{ whiteSpace: 'pre-wrap' }}>
      {parts}
    </Text>
  );
}

function TryIt() {
  const [text, setText] = useState('');
  const [direction, setDirection] = useState<Direction>('input');
  const check = useMutation({
    mutationFn: (body: { text: string; direction: Direction }) =>
      unwrap(api.POST('/v1/guardrails/check', { body })),
  });
  const verdict = check.data;
  const checked = check.variables?.text ?? '';
  return (
    <Card withBorder>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (text.trim()) check.mutate({ text, direction });
        }}
      >
        <Stack>
          <Title order={2} size="h4">
            Try it
          </Title>
          <Text size="sm">
            Runs your tenant's policy on a text, the same checks as a chat turn.
          </Text>
          <SegmentedControl
            aria-label="Direction"
            value={direction}
            onChange={(v) => setDirection(v as Direction)}
            data={[
              { value: 'input', label: 'Input (from the user)' },
              { value: 'output', label: 'Output (from the model)' },
            ]}
          />
          <Textarea
            label="Text to check"
            autosize
            minRows={3}
            maxRows={10}
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
            error={check.error ? errorMessage(check.error) : null}
          />
          <Group>
            <Button type="submit" loading={check.isPending} disabled={!text.trim()}>
              Check
            </Button>
          </Group>
          {verdict && (
            <Stack gap="xs" data-testid="verdict">
              <Group gap="xs">
                <Text fw={600}>Decision</Text>
                <Badge variant="dot" color={DECISION_COLOR[verdict.decision]}>
                  {verdict.decision}
                </Badge>
              </Group>
              <MarkedText text={checked} findings={verdict.findings} />
              {verdict.findings.length > 0 && (
                <DataTable<Finding>
                  aria-label="Findings"
                  withTableBorder
                  records={verdict.findings}
                  idAccessor={(f) => `${f.detector}:${f.type}:${f.start ?? ''}`}
                  columns={[
                    {
                      accessor: 'detector',
                      title: 'Detector',
                      render: (f) => detectorName(f.detector),
                    },
                    { accessor: 'type', title: 'Type' },
                    { accessor: 'score', title: 'Score', render: (f) => f.score.toFixed(2) },
                    { accessor: 'action', title: 'Action' },
                  ]}
                />
              )}
              {verdict.text !== checked && (
                <Text size="sm">
                  Would go on as:{' '}
                  <Text span ff="monospace">
                    {verdict.text}
                  </Text>
                </Text>
              )}
            </Stack>
          )}
        </Stack>
      </form>
    </Card>
  );
}
