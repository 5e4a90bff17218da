// The guide's five lines: every request to /dashboard or /api/protected needs a Gatehouse session
// (or, on the API route, a machine caller's API key). Runs on the Edge runtime.
import { createMiddleware } from '@gatehouse/next-sdk/middleware';

export const middleware = createMiddleware({
  apiKey: process.env.GATEHOUSE_API_KEY!, // server-side only; never sent to the browser
  protectedPaths: ['/dashboard', '/api/protected'],
  loginPath: '/login',
});

export const config = {
  // Everything but static assets (the middleware also renews sessions on open pages).
  matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'],
};
