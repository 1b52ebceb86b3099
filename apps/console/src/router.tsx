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
const UsersPage = lazy(() => import('./pages/UsersPage'));
const BudgetsPage = lazy(() => import('./pages/BudgetsPage'));
const GuardrailsPage = lazy(() => import('./pages/GuardrailsPage'));
const KnowledgeBasesPage = lazy(() => import('./pages/KnowledgeBasesPage'));
const KnowledgeBasePage = lazy(() => import('./pages/KnowledgeBasePage'));
const UsagePage = lazy(() => import('./pages/UsagePage'));
const PlaygroundPage = lazy(() => import('./pages/PlaygroundPage'));

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
            { path: 'usage', element: <UsagePage /> },
            { path: 'playground', element: <PlaygroundPage /> },
            { path: 'api-keys', element: <ApiKeysPage /> },
            { path: 'knowledge-bases', element: <KnowledgeBasesPage /> },
            { path: 'knowledge-bases/:id', element: <KnowledgeBasePage /> },
            {
              path: 'users',
              element: (
                <RequireRole role="admin" page="Users">
                  <UsersPage />
                </RequireRole>
              ),
            },
            {
              path: 'budgets',
              element: (
                <RequireRole role="admin" page="Budgets and pricing">
                  <BudgetsPage />
                </RequireRole>
              ),
            },
            {
              path: 'guardrails',
              element: (
                <RequireRole role="admin" page="Guardrails">
                  <GuardrailsPage />
                </RequireRole>
              ),
            },
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
