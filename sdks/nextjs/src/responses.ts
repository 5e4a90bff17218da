// RFC 9457 problem responses, in Gatehouse's own shape (status, detail, error_code).

export interface ProblemInit {
  status: number;
  error_code: string;
  detail: string;
  title?: string;
  headers?: Record<string, string>;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function problemBody(p: ProblemInit): Record<string, unknown> {
  return { type: 'about:blank', title: p.title ?? TITLES[p.status] ?? 'Error', status: p.status, detail: p.detail, error_code: p.error_code };
}

export function problemHeaders(p: ProblemInit): Headers {
  const h = new Headers(p.headers);
  h.set('Content-Type', 'application/problem+json');
  h.set('Cache-Control', 'no-store');
  return h;
}

export function unauthorizedProblem(tokenPresented: boolean, detail = 'Missing, invalid or expired credentials.'): ProblemInit {
  return {
    status: 401,
    error_code: 'unauthorized',
    detail,
    headers: { 'WWW-Authenticate': tokenPresented ? 'Bearer realm="gatehouse", error="invalid_token"' : 'Bearer realm="gatehouse"' },
  };
}

export function forbiddenProblem(detail = 'The credentials do not allow this request.'): ProblemInit {
  return { status: 403, error_code: 'insufficient_scope', detail, headers: { 'WWW-Authenticate': 'Bearer realm="gatehouse", error="insufficient_scope"' } };
}

export function unavailableProblem(detail = 'The authentication service is unavailable; try again shortly.'): ProblemInit {
  return { status: 503, error_code: 'auth_unavailable', detail, headers: { 'Retry-After': '5' } };
}

export function misconfiguredProblem(reason?: string): ProblemInit {
  // The detail stays generic (the caller cannot fix it); the server log names the fix.
  const appKey = reason !== undefined && /app API key|app's API key/.test(reason);
  return appKey
    ? { status: 500, error_code: 'auth_app_key_invalid', detail: "Authentication is misconfigured on this server: the app's Gatehouse API key is missing or refused." }
    : { status: 500, error_code: 'auth_misconfigured', detail: 'Authentication is not configured on this server.' };
}

/** A plain Response with a problem document (usable from route handlers and the middleware). */
export function problemResponse(p: ProblemInit): Response {
  return new Response(JSON.stringify(problemBody(p)), { status: p.status, headers: problemHeaders(p) });
}
