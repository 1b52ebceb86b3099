import { useSyncExternalStore } from 'react';
import { api, ApiError, setCredentials, unwrap, type Schemas } from '../api/client';

export type Principal = Schemas['PrincipalDto'];
export type Role = 'member' | 'admin' | 'superadmin';

export type SessionState =
  | { status: 'restoring' }
  | { status: 'anonymous'; notice?: string }
  | { status: 'authenticated'; principal: Principal };

/**
 * The browser session. The access token lives in this module's memory only (never in storage):
 * a reload loses it, and the refresh token, in an httpOnly cookie no script can read, gets a new
 * one. Everything the pages know of the user comes from GET /v1/auth/me.
 */
let accessToken: string | null = null;
let state: SessionState = { status: 'restoring' };
const listeners = new Set<() => void>();

function setState(next: SessionState): void {
  state = next;
  for (const listener of listeners) listener();
}

let refreshing: Promise<boolean> | null = null;

/** One refresh at a time: concurrent 401s share it (each refresh token works once). */
function refresh(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      const { data, response } = await api.POST('/v1/auth/refresh', { body: {} });
      if (!response.ok || !data) {
        accessToken = null;
        if (state.status === 'authenticated')
          setState({ status: 'anonymous', notice: 'Your session ended; log in again.' });
        return false;
      }
      accessToken = data.accessToken;
      return true;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

setCredentials({ accessToken: () => accessToken, refresh });

async function loadPrincipal(): Promise<void> {
  const principal = await unwrap(api.GET('/v1/auth/me'));
  setState({ status: 'authenticated', principal });
}

/** On load: the session cookie, if any, restores the session. */
export async function restoreSession(): Promise<void> {
  try {
    if (await refresh()) return await loadPrincipal();
  } catch {
    // the API is unreachable or refused: show the login page
  }
  setState({ status: 'anonymous' });
}

export async function logIn(input: {
  email: string;
  password: string;
  tenant?: string;
}): Promise<void> {
  const data = await unwrap(
    api.POST('/v1/auth/login', {
      body: { ...input, tenant: input.tenant || undefined, cookie: true },
    }),
  );
  accessToken = data.accessToken;
  await loadPrincipal();
}

export async function logOut(): Promise<void> {
  try {
    await api.POST('/v1/auth/logout', { body: {} });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
  } finally {
    accessToken = null;
    setState({ status: 'anonymous', notice: 'You are logged out.' });
  }
}

export function useSession(): SessionState {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => state,
  );
}

/** The highest role: superadmins are admins of their tenant too. */
export function roleOf(principal: Principal): Role {
  if (principal.superadmin) return 'superadmin';
  return principal.role === 'admin' ? 'admin' : 'member';
}

const RANK: Record<Role, number> = { member: 0, admin: 1, superadmin: 2 };

export function hasRole(principal: Principal, needed: Role): boolean {
  return RANK[roleOf(principal)] >= RANK[needed];
}
