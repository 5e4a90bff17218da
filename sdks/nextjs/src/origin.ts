// Same-origin checks shared by the middleware (refresh on POSTs and Server Actions) and the POST
// route handlers (CSRF). Web APIs only: the middleware may run on the Edge runtime.

/** The origin the browser used: Host / X-Forwarded-Host and X-Forwarded-Proto (which Next.js fills
 * in), else the request URL's. */
export function requestOrigin(request: Request & { nextUrl?: URL }): string {
  const url = request.nextUrl ?? new URL(request.url);
  const host = request.headers.get('x-forwarded-host')?.split(',')[0]?.trim() || request.headers.get('host');
  const proto = request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase() || url.protocol.replace(':', '');
  if (host && /^[a-z0-9.\-\[\]:]+$/i.test(host) && (proto === 'http' || proto === 'https')) return `${proto}://${host}`;
  return url.origin;
}

/**
 * Where a request comes from, as far as the browser tells: `same` (an Origin of this app, or
 * `Sec-Fetch-Site: same-origin`), `cross` (another site, `Origin: null`, or `Sec-Fetch-Site`
 * cross-site/same-site), `unknown` (neither header: curl, server-side callers).
 */
export function originVerdict(request: Request & { nextUrl?: URL }, extraOrigins: string[] = []): 'same' | 'cross' | 'unknown' {
  const origin = request.headers.get('origin');
  if (origin !== null) {
    if (origin === 'null') return 'cross';
    let o: URL;
    try {
      o = new URL(origin);
    } catch {
      return 'cross';
    }
    const url = request.nextUrl ?? new URL(request.url);
    const seen = requestOrigin(request);
    const allowed = new Set<string>([url.origin, seen, ...extraOrigins]);
    if (allowed.has(o.origin)) return 'same';
    // A plain-http page is never this app's origin when the app is served over https, whatever
    // its host: it is a network attacker's, or another service's, and browsers without schemeful
    // same-site still send SameSite=Lax cookies with its requests.
    if (o.protocol === 'http:' && (seen.startsWith('https:') || url.protocol === 'https:')) return 'cross';
    // Behind a proxy the request URL may name an internal host: compare with the Host the browser used.
    const hosts = [request.headers.get('x-forwarded-host')?.split(',')[0]?.trim(), request.headers.get('host')];
    return hosts.some((h) => h && h.toLowerCase() === o.host.toLowerCase()) ? 'same' : 'cross';
  }
  const site = request.headers.get('sec-fetch-site');
  if (site === null) return 'unknown';
  if (site === 'same-origin') return 'same';
  return site === 'none' ? 'unknown' : 'cross';
}
