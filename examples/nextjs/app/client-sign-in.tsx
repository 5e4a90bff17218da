'use client';
// Signing in from client code with signIn() from @gatehouse/next-sdk/react: the password goes to the
// SDK's login handler (same-origin POST), which sets the HttpOnly cookies; the page then goes to
// callbackUrl. signIn() without credentials goes to the login page instead.
import { useState } from 'react';
import { signIn } from '@gatehouse/next-sdk/react';

export function ClientSignIn() {
  const [error, setError] = useState('');
  async function submit(form: FormData) {
    const result = await signIn(undefined, {
      email: String(form.get('email') ?? ''),
      password: String(form.get('password') ?? ''),
      callbackUrl: '/dashboard',
    });
    if (result && !result.ok) setError(result.error);
  }
  return (
    <section style={{ margin: '1.5rem 0' }}>
      <form action={submit} style={{ display: 'grid', gap: '0.5rem', maxWidth: 320 }}>
        <input name="email" type="email" aria-label="signIn() email" required />
        <input name="password" type="password" aria-label="signIn() password" required />
        <button type="submit">Sign in with signIn()</button>
      </form>
      {error && (
        <p role="alert" data-testid="client-sign-in-error">
          {error}
        </p>
      )}
      <button type="button" onClick={() => void signIn()}>
        Go to the sign-in page
      </button>
    </section>
  );
}
