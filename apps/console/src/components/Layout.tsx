import {
  AppShell,
  Badge,
  Burger,
  Button,
  Center,
  Group,
  Loader,
  NavLink,
  Text,
  Title,
} from '@mantine/core';
import { useDisclosure, useDocumentTitle } from '@mantine/hooks';
import { Suspense } from 'react';
import { Link, Outlet, useLocation, useNavigate } from 'react-router';
import { hasRole, logOut, type Role, roleOf, useSession } from '../auth/session';
import { queryClient } from '../lib/query';

interface NavItem {
  to: string;
  label: string;
  role: Role;
}

/** The navigation, by role: nobody is shown a page the API would refuse them. */
const NAV: NavItem[] = [
  { to: '/', label: 'Overview', role: 'member' },
  { to: '/usage', label: 'Usage and cost', role: 'member' },
  { to: '/playground', label: 'Playground', role: 'member' },
  { to: '/api-keys', label: 'API keys', role: 'member' },
  { to: '/knowledge-bases', label: 'Knowledge bases', role: 'member' },
  { to: '/users', label: 'Users', role: 'admin' },
  { to: '/budgets', label: 'Budgets and pricing', role: 'admin' },
  { to: '/guardrails', label: 'Guardrails', role: 'admin' },
  { to: '/audit-log', label: 'Audit log', role: 'admin' },
  { to: '/tenants', label: 'Tenants', role: 'superadmin' },
];

const ROLE_LABEL: Record<Role, string> = {
  member: 'Member',
  admin: 'Tenant admin',
  superadmin: 'Superadmin',
};

export function Layout() {
  const session = useSession();
  const [opened, { toggle, close }] = useDisclosure();
  const location = useLocation();
  const navigate = useNavigate();
  if (session.status !== 'authenticated') return null;
  const { principal } = session;
  const role = roleOf(principal);

  const onLogOut = async () => {
    await logOut();
    queryClient.clear();
    await navigate('/login');
  };

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group gap="sm">
            <Burger
              opened={opened}
              onClick={toggle}
              hiddenFrom="sm"
              size="sm"
              aria-label="Toggle navigation"
            />
            <Text fw={700} size="lg" component="span">
              Parley console
            </Text>
          </Group>
          <Group gap="sm">
            <Badge variant="outline" color="gray.8" data-testid="role">
              {ROLE_LABEL[role]}
            </Badge>
            <Button variant="default" size="xs" onClick={() => void onLogOut()}>
              Log out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Main">
        {NAV.filter((item) => hasRole(principal, item.role)).map((item) => {
          const active =
            item.to === '/' ? location.pathname === '/' : location.pathname.startsWith(item.to);
          return (
            <NavLink
              key={item.to}
              component={Link}
              to={item.to}
              label={item.label}
              active={active}
              variant="filled"
              aria-current={active ? 'page' : undefined}
              onClick={close}
            />
          );
        })}
      </AppShell.Navbar>
      <AppShell.Main>
        <Suspense
          fallback={
            <Center py="xl">
              <Loader aria-label="Loading the page" />
            </Center>
          }
        >
          <Outlet />
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}

/** The title of a page: one h1 per page, for people and screen readers. */
export function PageTitle({ children }: { children: string }) {
  useDocumentTitle(`${children} · Parley console`);
  return (
    <Title order={1} size="h2">
      {children}
    </Title>
  );
}
