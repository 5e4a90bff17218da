// A Pages Router page beside the App Router: getServerSideProps reads the session with getAuth(req).
// getAuth never renews an expired session (it cannot set cookies here); the middleware does that
// on the way in.
import type { GetServerSideProps } from 'next';
import { getAuth } from '@gatehouse/next-sdk/server';

interface Props {
  email: string | null;
}

export const getServerSideProps: GetServerSideProps<Props> = async ({ req }) => {
  const session = await getAuth(req).catch(() => null); // Gatehouse unreachable: anonymous
  return { props: { email: session?.user.email ?? null } };
};

export default function PagesRouterPage({ email }: Props) {
  return (
    <main>
      <h1>Pages Router</h1>
      {email ? (
        <p data-testid="pages-user">
          Signed in as <strong>{email}</strong>.
        </p>
      ) : (
        <p data-testid="pages-anonymous">You are not signed in.</p>
      )}
    </main>
  );
}
