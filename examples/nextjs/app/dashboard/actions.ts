'use server';
// A Server Action. It is a POST to the page's path: the middleware renews an expired session on it
// (same origin only) and sends an anonymous caller to the login page; auth() re-verifies here.
import { auth } from '@gatehouse/next-sdk/server';

export async function whoAmI(): Promise<{ email: string | null; expiresAt: string | null }> {
  const session = await auth();
  if (!session) throw new Error('not signed in');
  return { email: session.user.email ?? null, expiresAt: session.expiresAt?.toISOString() ?? null };
}
