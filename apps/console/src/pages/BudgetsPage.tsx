import {
  Badge,
  Button,
  Code,
  Group,
  Modal,
  Select,
  SimpleGrid,
  Skeleton,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { DataTable } from 'mantine-datatable';
import { useState } from 'react';
import { api, type Schemas, unwrap } from '../api/client';
import { hasRole, useSession } from '../auth/session';
import { PageTitle } from '../components/Layout';
import { applyFieldErrors, ErrorAlert, errorMessage } from '../lib/errors';
import { formatUsd } from '../lib/format';
import { BudgetCard } from '../components/BudgetCard';
import { FormActions } from '../components/FormActions';

type Rule = Schemas['BudgetRuleDto'];
type BudgetInput = Schemas['BudgetDto'];
type Price = Schemas['ModelPriceDto'];
type Scope = Rule['scope'];

const SCOPE_NAMES: Record<Scope, string> = {
  global: 'Whole installation',
  tenant: 'Tenant',
  user: 'User',
  apiKey: 'API key',
};

const ruleKey = (r: Rule) => `${r.scope}:${r.scopeId ?? ''}:${r.period}`;

/**
 * Budgets at every scope (the rules: defaults and overrides, set with PUT /v1/admin/budgets),
 * the budgets that apply to you with what is spent, reserved and left, and the price catalogue.
 */
export default function BudgetsPage() {
  const session = useSession();
  const superadmin = session.status === 'authenticated' && hasRole(session.principal, 'superadmin');
  const queryClient = useQueryClient();
  const rules = useQuery({
    queryKey: ['budgets', 'rules'],
    queryFn: () => unwrap(api.GET('/v1/admin/budgets')),
  });
  const ownId = session.status === 'authenticated' ? session.principal.userId : undefined;
  const [whose, setWhose] = useState<string | null>(ownId ?? null);
  // What is spent, reserved and left, for any user of the tenant (or the tenant alone).
  const status = useQuery({
    queryKey: ['budgets', 'status', whose],
    queryFn: () =>
      unwrap(
        api.GET('/v1/admin/budgets/status', {
          params: { query: whose ? { userId: whose } : {} },
        }),
      ),
  });
  const prices = useQuery({
    queryKey: ['pricing'],
    queryFn: () => unwrap(api.GET('/v1/admin/pricing')),
  });
  const users = useQuery({
    queryKey: ['users', 'names'],
    queryFn: () => unwrap(api.GET('/v1/admin/users', { params: { query: { limit: 100 } } })),
  });
  const userName = (id: string | null | undefined) =>
    users.data?.items.find((u) => u.id === id)?.name;
  const [editing, setEditing] = useState<BudgetInput | null>(null);
  const [pricing, setPricing] = useState<Price | null>(null);
  const removePrice = useMutation({
    mutationFn: (p: Price) =>
      unwrap(api.DELETE('/v1/admin/pricing/{model}', { params: { path: { model: p.model } } })),
    onSuccess: (_, p) => {
      notifications.show({ color: 'green', message: `${p.model}: the configured price applies.` });
      void queryClient.invalidateQueries({ queryKey: ['pricing'] });
    },
    onError: (error) =>
      notifications.show({ color: 'red', title: 'Could not remove', message: errorMessage(error) }),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['budgets'] });

  const remove = useMutation({
    mutationFn: (r: Rule) =>
      unwrap(
        api.DELETE('/v1/admin/budgets', {
          params: {
            query: {
              scope: r.scope,
              period: r.period,
              ...(r.scopeId ? { scopeId: r.scopeId } : {}),
            },
          },
        }),
      ),
    onSuccess: () => {
      notifications.show({ color: 'green', message: 'The override is gone; the default applies.' });
      void refresh();
    },
    onError: (error) =>
      notifications.show({ color: 'red', title: 'Could not remove', message: errorMessage(error) }),
  });

  const all: Rule[] = [...(rules.data?.budgets ?? []), ...(rules.data?.defaults ?? [])];
  const scopes: Scope[] = superadmin ? ['user', 'apiKey', 'tenant', 'global'] : ['user', 'apiKey'];

  return (
    <Stack>
      <PageTitle>Budgets and pricing</PageTitle>
      <Group justify="space-between" align="flex-end">
        <Title order={2} size="h4">
          Budgets in force now
        </Title>
        <Select
          label="Whose"
          w={320}
          searchable
          clearable
          description="Empty: the tenant alone"
          data={(users.data?.items ?? []).map((u) => ({
            value: u.id,
            label: u.id === ownId ? `You (${u.email})` : `${u.name} (${u.email})`,
          }))}
          value={whose}
          onChange={setWhose}
        />
      </Group>
      <ErrorAlert error={status.error} title="Could not load the budgets" />
      {status.isPending ? (
        <Skeleton h={120} />
      ) : (
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          {(status.data?.items ?? []).map((b) => (
            <BudgetCard
              key={`${b.scope}:${b.scopeId ?? ''}:${b.period}`}
              budget={b}
              user={whose === ownId ? 'You' : (userName(whose) ?? 'User')}
            />
          ))}
        </SimpleGrid>
      )}

      <Group justify="space-between">
        <Title order={2} size="h4">
          Budget rules
        </Title>
        <Button
          onClick={() => setEditing({ scope: 'user', scopeId: null, period: 'day', limitUsd: '' })}
        >
          Set a budget
        </Button>
      </Group>
      <Text size="sm">
        Overrides set by admins replace the defaults of the configuration for their scope and
        period. User and API key budgets: tenant admins; tenant and global budgets: superadmins.
      </Text>
      <ErrorAlert error={rules.error} title="Could not load the budgets" />
      <DataTable<Rule>
        aria-label="Budget rules"
        withTableBorder
        minHeight={120}
        records={all}
        idAccessor={(r) => `${r.source}:${ruleKey(r)}`}
        fetching={rules.isFetching}
        noRecordsText="No budgets"
        columns={[
          {
            accessor: 'scope',
            title: 'Scope',
            render: (r) => (
              <Text size="sm">
                {SCOPE_NAMES[r.scope]}
                {r.scopeId ? (
                  <> {userName(r.scopeId) ?? <Code>{r.scopeId.slice(0, 8)}…</Code>}</>
                ) : null}
              </Text>
            ),
          },
          { accessor: 'period', title: 'Per' },
          { accessor: 'limitUsd', title: 'Limit', render: (r) => formatUsd(r.limitUsd) },
          {
            accessor: 'perRequestLimitUsd',
            title: 'Per request',
            render: (r) => (r.perRequestLimitUsd ? formatUsd(r.perRequestLimitUsd) : '—'),
          },
          {
            accessor: 'source',
            title: 'Source',
            render: (r) => (
              <Badge variant="outline" color={r.source === 'override' ? 'blue.8' : 'gray.8'}>
                {r.source === 'override' ? 'Override' : 'Default'}
              </Badge>
            ),
          },
          {
            accessor: 'actions',
            title: 'Actions',
            textAlign: 'right',
            render: (r) =>
              scopes.includes(r.scope) ? (
                <Group gap="xs" justify="flex-end" wrap="nowrap">
                  <Button
                    size="xs"
                    variant="default"
                    aria-label={`Edit the ${r.period} budget of ${SCOPE_NAMES[r.scope]}`}
                    onClick={() =>
                      setEditing({
                        scope: r.scope,
                        scopeId: r.scopeId ?? null,
                        period: r.period,
                        limitUsd: r.limitUsd,
                        perRequestLimitUsd: r.perRequestLimitUsd ?? null,
                      })
                    }
                  >
                    Edit
                  </Button>
                  {r.source === 'override' && (
                    <Button
                      size="xs"
                      variant="outline"
                      color="red.9"
                      aria-label={`Remove the ${r.period} override of ${SCOPE_NAMES[r.scope]}`}
                      loading={remove.isPending && remove.variables === r}
                      onClick={() => remove.mutate(r)}
                    >
                      Remove
                    </Button>
                  )}
                </Group>
              ) : null,
          },
        ]}
      />

      <Title order={2} size="h4">
        Prices (USD per million tokens)
      </Title>
      <Text size="sm">
        The configured catalogue, with your tenant's overrides (
        <Code>PUT /v1/admin/pricing/:model</Code>; tenant admins may only raise a price).
      </Text>
      <ErrorAlert error={prices.error} title="Could not load the prices" />
      <DataTable<Price>
        aria-label="Prices"
        withTableBorder
        minHeight={120}
        records={prices.data?.items ?? []}
        idAccessor="model"
        fetching={prices.isFetching}
        noRecordsText="No prices"
        columns={[
          { accessor: 'model', title: 'Model', render: (p) => <Code>{p.model}</Code> },
          { accessor: 'inputPerMTok', title: 'Input', render: (p) => formatUsd(p.inputPerMTok) },
          {
            accessor: 'cachedInputPerMTok',
            title: 'Cached input',
            render: (p) => formatUsd(p.cachedInputPerMTok),
          },
          { accessor: 'outputPerMTok', title: 'Output', render: (p) => formatUsd(p.outputPerMTok) },
          {
            accessor: 'source',
            title: 'Source',
            render: (p) => (
              <Badge variant="outline" color={p.source === 'tenant' ? 'blue.8' : 'gray.8'}>
                {p.source === 'tenant' ? 'Tenant override' : 'Configuration'}
              </Badge>
            ),
          },
          {
            accessor: 'actions',
            title: 'Actions',
            textAlign: 'right',
            render: (p) => (
              <Group gap="xs" justify="flex-end" wrap="nowrap">
                <Button
                  size="xs"
                  variant="default"
                  aria-label={`Set price of ${p.model}`}
                  onClick={() => setPricing(p)}
                >
                  Set price
                </Button>
                {p.source === 'tenant' && (
                  <Button
                    size="xs"
                    variant="outline"
                    color="red.9"
                    aria-label={`Remove the price override of ${p.model}`}
                    loading={removePrice.isPending && removePrice.variables?.model === p.model}
                    onClick={() => removePrice.mutate(p)}
                  >
                    Remove
                  </Button>
                )}
              </Group>
            ),
          },
        ]}
      />

      <Modal
        opened={pricing !== null}
        onClose={() => setPricing(null)}
        title={`Price of ${pricing?.model ?? ''}`}
      >
        {pricing && (
          <PriceForm
            price={pricing}
            onClose={() => setPricing(null)}
            onSaved={() => {
              setPricing(null);
              notifications.show({ color: 'green', message: 'The price is set.' });
              void queryClient.invalidateQueries({ queryKey: ['pricing'] });
            }}
          />
        )}
      </Modal>
      <BudgetModal
        budget={editing}
        scopes={scopes}
        users={(users.data?.items ?? []).map((u) => ({
          value: u.id,
          label: `${u.name} (${u.email})`,
        }))}
        onClose={() => setEditing(null)}
        onSaved={() => {
          setEditing(null);
          notifications.show({ color: 'green', message: 'The budget is set.' });
          void refresh();
        }}
      />
    </Stack>
  );
}

function BudgetModal({
  budget,
  scopes,
  users,
  onClose,
  onSaved,
}: {
  budget: BudgetInput | null;
  scopes: Scope[];
  users: { value: string; label: string }[];
  onClose: () => void;
  onSaved: () => void;
}) {
  return (
    <Modal opened={budget !== null} onClose={onClose} title="Set a budget">
      {budget && (
        <BudgetForm
          budget={budget}
          scopes={scopes}
          users={users}
          onClose={onClose}
          onSaved={onSaved}
        />
      )}
    </Modal>
  );
}

function BudgetForm({
  budget,
  scopes,
  users,
  onClose,
  onSaved,
}: {
  budget: BudgetInput;
  scopes: Scope[];
  users: { value: string; label: string }[];
  onClose: () => void;
  onSaved: () => void;
}) {
  const [error, setError] = useState<unknown>(null);
  const form = useForm({
    initialValues: {
      scope: budget.scope,
      scopeId: budget.scopeId ?? '',
      period: budget.period,
      limitUsd: budget.limitUsd,
      perRequestLimitUsd: budget.perRequestLimitUsd ?? '',
    },
    validate: {
      limitUsd: (v) =>
        /^\d+(\.\d{1,9})?$/.test(v.trim()) ? null : 'A dollar amount, e.g. 25 or 2.50',
      perRequestLimitUsd: (v) =>
        !v.trim() || /^\d+(\.\d{1,9})?$/.test(v.trim()) ? null : 'A dollar amount, or empty',
      scopeId: (v, values) =>
        (values.scope === 'user' || values.scope === 'apiKey') && !v ? 'Choose whose budget' : null,
    },
  });
  const scope = form.values.scope;
  const submit = form.onSubmit(async (values) => {
    setError(null);
    try {
      await unwrap(
        api.PUT('/v1/admin/budgets', {
          body: {
            budgets: [
              {
                scope: values.scope,
                period: values.period,
                limitUsd: values.limitUsd.trim(),
                ...(values.scopeId && values.scope !== 'global' ? { scopeId: values.scopeId } : {}),
                ...(values.perRequestLimitUsd.trim()
                  ? { perRequestLimitUsd: values.perRequestLimitUsd.trim() }
                  : {}),
              },
            ],
          },
        }),
      );
      onSaved();
    } catch (e) {
      if (
        !applyFieldErrors(form, e, ['scope', 'scopeId', 'period', 'limitUsd', 'perRequestLimitUsd'])
      )
        setError(e);
    }
  });
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <ErrorAlert error={error} title="Could not set the budget" />
        <Select
          label="Scope"
          required
          allowDeselect={false}
          data={scopes.map((s) => ({ value: s, label: SCOPE_NAMES[s] }))}
          {...form.getInputProps('scope')}
        />
        {scope === 'user' ? (
          <Select
            label="User"
            required
            searchable
            data={users}
            {...form.getInputProps('scopeId')}
          />
        ) : scope === 'global' ? null : (
          <TextInput
            label={scope === 'tenant' ? 'Tenant id' : 'API key id'}
            description={scope === 'tenant' ? 'Empty: your own tenant' : undefined}
            required={scope === 'apiKey'}
            {...form.getInputProps('scopeId')}
          />
        )}
        <Select
          label="Period"
          required
          allowDeselect={false}
          data={[
            { value: 'day', label: 'Per day' },
            { value: 'month', label: 'Per month' },
          ]}
          {...form.getInputProps('period')}
        />
        <TextInput
          label="Limit (USD)"
          required
          inputMode="decimal"
          data-autofocus
          {...form.getInputProps('limitUsd')}
        />
        <TextInput
          label="Per request (USD)"
          description="Optional: the most one request may cost"
          inputMode="decimal"
          {...form.getInputProps('perRequestLimitUsd')}
        />
        <FormActions onCancel={onClose} submitLabel="Save" submitting={form.submitting} />
      </Stack>
    </form>
  );
}

const USD_AMOUNT = /^\d+(\.\d{1,9})?$/;

/** A tenant price override (USD per million tokens); tenant admins may only raise a price. */
function PriceForm({
  price,
  onClose,
  onSaved,
}: {
  price: Price;
  onClose: () => void;
  onSaved: () => void;
}) {
  const [error, setError] = useState<unknown>(null);
  const plain = (v: string) => String(Number(v));
  const form = useForm({
    initialValues: {
      inputPerMTok: plain(price.inputPerMTok),
      cachedInputPerMTok: plain(price.cachedInputPerMTok),
      outputPerMTok: plain(price.outputPerMTok),
    },
    validate: {
      inputPerMTok: (v) => (USD_AMOUNT.test(v.trim()) ? null : 'A dollar amount, e.g. 0.15'),
      cachedInputPerMTok: (v) =>
        !v.trim() || USD_AMOUNT.test(v.trim()) ? null : 'A dollar amount, or empty',
      outputPerMTok: (v) => (USD_AMOUNT.test(v.trim()) ? null : 'A dollar amount, e.g. 0.60'),
    },
  });
  const submit = form.onSubmit(async (values) => {
    setError(null);
    try {
      await unwrap(
        api.PUT('/v1/admin/pricing/{model}', {
          params: { path: { model: price.model } },
          body: {
            inputPerMTok: values.inputPerMTok.trim(),
            outputPerMTok: values.outputPerMTok.trim(),
            ...(values.cachedInputPerMTok.trim()
              ? { cachedInputPerMTok: values.cachedInputPerMTok.trim() }
              : {}),
          },
        }),
      );
      onSaved();
    } catch (e) {
      if (!applyFieldErrors(form, e, ['inputPerMTok', 'cachedInputPerMTok', 'outputPerMTok']))
        setError(e);
    }
  });
  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <ErrorAlert error={error} title="Could not set the price" />
        <TextInput
          label="Input (USD per million tokens)"
          required
          inputMode="decimal"
          data-autofocus
          {...form.getInputProps('inputPerMTok')}
        />
        <TextInput
          label="Cached input (USD per million tokens)"
          description="Empty: the input price"
          inputMode="decimal"
          {...form.getInputProps('cachedInputPerMTok')}
        />
        <TextInput
          label="Output (USD per million tokens)"
          required
          inputMode="decimal"
          {...form.getInputProps('outputPerMTok')}
        />
        <FormActions onCancel={onClose} submitLabel="Save" submitting={form.submitting} />
      </Stack>
    </form>
  );
}
