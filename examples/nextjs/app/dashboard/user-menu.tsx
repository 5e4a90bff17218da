'use client';
// A Client Component reading the session from <GatehouseProvider> (rendered by the dashboard with
// what requireUser() answered), and signing out with signOut() from @gatehouse/next-sdk/react.
import { signOut, useSession, useUser } from '@gatehouse/next-sdk/react';

export function UserMenu() {
  const session = useSession();
  const user = useUser();
  return (
    <p>
      <span data-testid="provider-user">{user?.email ?? 'nobody'}</span> ({session?.kind}){' '}
      <button type="button" onClick={() => void signOut({ callbackUrl: '/login' })}>
        Client-side sign-out
      </button>
    </p>
  );
}
