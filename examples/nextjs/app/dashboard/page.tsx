// A protected page. The middleware sent anonymous visitors to /login; requireUser() verifies the
// session again here (and would redirect as well).
import { requireUser } from '@gatehouse/next-sdk/server';
import { GatehouseProvider } from '@gatehouse/next-sdk/react';
import { ActionPanel } from './action-panel';
import { ApiPanel } from './api-panel';
import { SessionBadge } from './session-badge';
import { UserMenu } from './user-menu';

export default async function Dashboard() {
  const session = await requireUser();
  return (
    <main>
      <h1>Dashboard</h1>
      <dl data-testid="dashboard">
        <dt>Email</dt>
        <dd data-testid="user-email">{session.user.email}</dd>
        <dt>User id</dt>
        <dd data-testid="user-id">{session.user.id}</dd>
        <dt>Role</dt>
        <dd>{session.user.role}</dd>
        <dt>Access token expires</dt>
        <dd data-testid="expires-at">{session.expiresAt?.toISOString()}</dd>
      </dl>
      <SessionBadge session={session} />
      <GatehouseProvider session={session}>
        <UserMenu />
      </GatehouseProvider>
      <ApiPanel />
      <ActionPanel />
      <form method="post" action="/api/auth/logout">
        <input type="hidden" name="callbackUrl" value="/login" />
        <button type="submit">Sign out</button>
      </form>
    </main>
  );
}
