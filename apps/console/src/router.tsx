import { lazy } from 'react';
import { createBrowserRouter } from 'react-router';
import { RequireRole, RequireSession } from './auth/guards';
import { Layout } from './components/Layout';
import { LoginPage } from './pages/LoginPage';
import { NotFoundPage } from './pages/NotFoundPage';

// Pages load on first visit: the initial bundle holds the shell, the login page and the session.
const OverviewPage = lazy(() => import('./pages/OverviewPage'));
const ApiKeysPage = lazy(() => import('./pages/ApiKeysPage'));
const AuditLogPage = lazy(() => import('./pages/AuditLogPage'));
const TenantsPage = lazy(() => import('./pages/TenantsPage'));

export const router = createBrowserRouter(
  [
    { path: '/login', element: <LoginPage /> },
    {
      element: <RequireSession />,
      children: [
        {
          element: <Layout />,
          children: [
            { index: true, element: <OverviewPage /> },
            { path: 'api-keys', element: <ApiKeysPage /> },
            {
              path: 'audit-log',
              element: (
                <RequireRole role="admin" page="The audit log">
                  <AuditLogPage />
                </RequireRole>
              ),
            },
            {
              path: 'tenants',
              element: (
                <RequireRole role="superadmin" page="Tenants">
                  <TenantsPage />
                </RequireRole>
              ),
            },
            { path: '*', element: <NotFoundPage /> },
          ],
        },
      ],
    },
  ],
  { basename: '/console' },
);
