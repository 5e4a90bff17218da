// A public page: anyone may see it; signed-in users are greeted by name.
import { auth } from '@gatehouse/next-sdk/server';
import { ClientSignIn } from './client-sign-in';

export default async function Home() {
  // auth() throws when Gatehouse cannot be reached; a public page can simply treat that as anonymous.
  const session = await auth().catch(() => null);
  return (
    <main>
      <h1>Welcome</h1>
      <p>This page is public.</p>
      {session ? (
        <p data-testid="home-user">
          Signed in as <strong>{session.user.email}</strong>. Go to your <a href="/dashboard">dashboard</a>.
        </p>
      ) : (
        <>
          <p data-testid="home-anonymous">
            You are not signed in. <a href="/login">Sign in</a>.
          </p>
          <ClientSignIn />
        </>
      )}
    </main>
  );
}
