// A protected API route. The middleware already checked the caller; withAuth() checks again
// (the middleware is the first line of defence, never the only one).
import { withAuth } from '@gatehouse/next-sdk/server';

export const GET = withAuth(async (_request, session) =>
  Response.json({ kind: session.kind, user: session.user, scopes: session.scopes, served_at: new Date().toISOString() }),
);
