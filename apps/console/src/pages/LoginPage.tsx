import { Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useDocumentTitle } from '@mantine/hooks';
import { useState } from 'react';
import { Navigate, useSearchParams } from 'react-router';
import { logIn, useSession } from '../auth/session';
import { applyFieldErrors, ErrorAlert } from '../lib/errors';

/** Only paths inside the console: never an open redirect. */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

export function LoginPage() {
  useDocumentTitle('Log in · Parley console');
  const session = useSession();
  const [params] = useSearchParams();
  const [error, setError] = useState<unknown>(null);
  const form = useForm({
    mode: 'uncontrolled',
    initialValues: { email: '', password: '', tenant: '' },
    validate: {
      email: (v) => (v.includes('@') ? null : 'Enter your email address'),
      password: (v) => (v ? null : 'Enter your password'),
    },
  });

  if (session.status === 'authenticated')
    return <Navigate to={safeNext(params.get('next'))} replace />;

  const submit = form.onSubmit(async (values) => {
    setError(null);
    try {
      await logIn(values);
    } catch (e) {
      if (!applyFieldErrors(form, e, ['email', 'password', 'tenant'])) setError(e);
    }
  });

  return (
    <Center mih="100vh" p="md" component="main">
      <Paper withBorder shadow="sm" p="xl" w={380}>
        <form onSubmit={submit} noValidate>
          <Stack>
            <Title order={1} size="h2">
              Parley console
            </Title>
            {session.status === 'anonymous' && session.notice && !error && (
              <Text size="sm" role="status">
                {session.notice}
              </Text>
            )}
            <ErrorAlert error={error} title="Could not log in" />
            <TextInput
              label="Email"
              type="email"
              autoComplete="username"
              required
              key={form.key('email')}
              {...form.getInputProps('email')}
            />
            <PasswordInput
              label="Password"
              autoComplete="current-password"
              required
              key={form.key('password')}
              {...form.getInputProps('password')}
            />
            <TextInput
              label="Tenant"
              description="Leave empty for the default tenant"
              autoComplete="organization"
              key={form.key('tenant')}
              {...form.getInputProps('tenant')}
            />
            <Button type="submit" loading={form.submitting}>
              Log in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
