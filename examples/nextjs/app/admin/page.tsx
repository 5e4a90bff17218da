// An admin-only page: requireUser({ role: 'admin' }) sends a signed-in user without the role to the
// login page with error=forbidden (and a visitor without a session to sign in).
import { requireUser } from '@gatehouse/next-sdk/server';

export default async function Admin() {
  const session = await requireUser({ role: 'admin' });
  return (
    <main>
      <h1>Admin</h1>
      <p data-testid="admin-user">{session.user.email}</p>
    </main>
  );
}
