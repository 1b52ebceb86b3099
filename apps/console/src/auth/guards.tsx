import { Alert, Center, Loader, Stack, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { Navigate, Outlet, useLocation } from 'react-router';
import { hasRole, type Role, useSession } from './session';

/** Pages behind a session: the login page first, coming back here after. */
export function RequireSession() {
  const session = useSession();
  const location = useLocation();
  if (session.status === 'restoring')
    return (
      <Center h="100vh">
        <Loader aria-label="Restoring your session" />
      </Center>
    );
  if (session.status === 'anonymous') {
    const next = `${location.pathname}${location.search}`;
    return (
      <Navigate to={`/login${next === '/' ? '' : `?next=${encodeURIComponent(next)}`}`} replace />
    );
  }
  return <Outlet />;
}

const ROLE_NAMES: Record<Role, string> = {
  member: 'members',
  admin: 'tenant admins',
  superadmin: 'superadmins',
};

/**
 * A page for a role: anyone else gets the refusal (the API would refuse them anyway; the console
 * only says so before asking).
 */
export function RequireRole({
  role,
  page,
  children,
}: {
  role: Role;
  page: string;
  children: ReactNode;
}) {
  const session = useSession();
  if (session.status !== 'authenticated') return null;
  if (hasRole(session.principal, role)) return children;
  return (
    <Stack>
      <Title order={1}>Not allowed</Title>
      <Alert color="red" title="You may not open this page" role="alert">
        {page} is for {ROLE_NAMES[role]} only. Ask an admin of your tenant if you need it.
      </Alert>
    </Stack>
  );
}
