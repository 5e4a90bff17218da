// The sign-in page. A plain HTML form posts to the SDK's login handler, which sets the cookies and
// redirects to callbackUrl (same-origin paths only). Works without JavaScript.
import { redirect } from 'next/navigation';
import { auth, safeRedirect } from '@gatehouse/next-sdk/server';

const MESSAGES: Record<string, string> = {
  invalid_credentials: 'Incorrect email or password.',
  forbidden: 'This account cannot sign in here; sign in as someone else.',
  rate_limited: 'Too many attempts; wait a moment and try again.',
  unavailable: 'The sign-in service is unavailable; try again shortly.',
  invalid_input: 'Check the email address and password.',
};

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const callbackUrl = safeRedirect(params.callbackUrl, '/dashboard');
  // Already signed in: go on (an unreachable Gatehouse just shows the form). Not after `forbidden`
  // (signed in, but without the role the page needs): that would go round in circles.
  if (params.error !== 'forbidden' && (await auth().catch(() => null))) redirect(callbackUrl);
  const error = typeof params.error === 'string' ? (MESSAGES[params.error] ?? 'Sign-in failed.') : null;
  return (
    <main>
      <h1>Sign in</h1>
      {error && (
        <p role="alert" data-testid="login-error" style={{ color: 'crimson' }}>
          {error}
        </p>
      )}
      <form method="post" action="/api/auth/login" style={{ display: 'grid', gap: '0.75rem', maxWidth: 320 }}>
        <input type="hidden" name="callbackUrl" value={callbackUrl} />
        <label>
          Email <input name="email" type="email" autoComplete="username" required />
        </label>
        <label>
          Password <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
