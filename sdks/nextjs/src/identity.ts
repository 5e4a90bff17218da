// The request headers through which the middleware hands the verified identity to the app.
// Every incoming header with this prefix is removed first, so a client cannot forge them.

export const IDENTITY_HEADER_PREFIX = 'x-gatehouse-';

export const IdentityHeaders = {
  /** `session` (access token from cookie or Bearer) or `api_key` (introspected machine key). */
  auth: 'x-gatehouse-auth',
  userId: 'x-gatehouse-user-id',
  /** Percent-encoded UTF-8 (decode with decodeURIComponent). */
  email: 'x-gatehouse-user-email',
  role: 'x-gatehouse-user-role',
  sessionId: 'x-gatehouse-session-id',
  keyId: 'x-gatehouse-key-id',
  /** Space-separated scopes of an API key. */
  scope: 'x-gatehouse-scope',
  /** The requested path and query, as a safe relative reference (used by requireUser() for callbackUrl). */
  path: 'x-gatehouse-path',
} as const;

/** Copies headers without any `x-gatehouse-*` header, nor Next's internal `x-middleware-subrequest`
 * (the header of the CVE-2025-29927 bypass; patched Next.js ignores it, the app never needs it). */
export function stripIdentityHeaders(h: Headers): Headers {
  const out = new Headers();
  h.forEach((value, key) => {
    const k = key.toLowerCase();
    if (!k.startsWith(IDENTITY_HEADER_PREFIX) && k !== 'x-middleware-subrequest') out.append(key, value);
  });
  return out;
}

/** Header values must be ByteStrings: escape '%' and anything outside printable ASCII. */
export function headerSafe(v: string): string {
  return v.replace(/[%\u0000-\u001f\u007f-\u{10ffff}]/gu, (c) => {
    try {
      return encodeURIComponent(c);
    } catch {
      return '%EF%BF%BD'; // a lone surrogate
    }
  });
}

/** For values that are already URL-encoded (paths): escape only what a header cannot carry. */
export function asciiHeader(v: string): string {
  return v.replace(/[^\u0020-\u007e]/gu, (c) => {
    try {
      return encodeURIComponent(c);
    } catch {
      return '%EF%BF%BD';
    }
  });
}
