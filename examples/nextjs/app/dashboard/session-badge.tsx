'use client';
// A Client Component that receives the whole session object from the Server Component. Its props
// are serialised into the page's HTML: the session carries no token, so none leaks (the end-to-end
// test greps the HTML for it). Server code that needs the token calls getToken().
import type { GatehouseSession } from '@gatehouse/next-sdk';

export function SessionBadge({ session }: { session: GatehouseSession }) {
  return (
    <p data-testid="session-badge">
      {session.kind} · {session.user.role ?? 'no role'}
    </p>
  );
}
