const PLACEHOLDER_ORIGIN = 'http://gatehouse.invalid';

/**
 * Returns `target` when it is a same-origin destination, as a relative reference
 * (path, query and fragment), and `fallback` otherwise. Use it for every `callbackUrl`.
 *
 * Accepted: `/dashboard`, `/a/b?x=1#y`, and absolute URLs whose origin equals `origin` (when given).
 * Refused: `//evil.com`, `/\evil.com`, `https://evil.com`, `/..//evil.com`, `javascript:...`,
 * anything with control characters, anything that does not start with `/` unless it is an
 * absolute URL on `origin`.
 */
export function safeRedirect(input: unknown, fallback = '/', origin?: string): string {
  if (typeof input !== 'string') return fallback;
  let target: string = input;
  if (target.length === 0 || target.length > 2048) return fallback;
  // Control characters and whitespace are stripped by URL parsers ("/\t/evil.com" is "//evil.com").
  if (/[\u0000-\u0020\u007f-\u009f]/.test(target)) return fallback;
  if (target.includes('\\')) return fallback;
  let base = PLACEHOLDER_ORIGIN;
  if (!target.startsWith('/')) {
    // Only absolute URLs on the app's own origin are allowed besides relative paths.
    if (!origin) return fallback;
    let o: URL;
    try {
      o = new URL(origin);
    } catch {
      return fallback;
    }
    base = o.origin;
    let t: URL;
    try {
      t = new URL(target);
    } catch {
      return fallback;
    }
    if (t.origin !== base || (t.protocol !== 'http:' && t.protocol !== 'https:')) return fallback;
    target = t.pathname + t.search + t.hash;
  }
  if (target.startsWith('//')) return fallback;
  let u: URL;
  try {
    u = new URL(target, base);
  } catch {
    return fallback;
  }
  if (u.origin !== base) return fallback;
  // "/..//evil.com" resolves to the path "//evil.com", which a browser reads as another host.
  if (u.pathname.startsWith('//') || u.pathname.startsWith('/\\')) return fallback;
  return u.pathname + u.search + u.hash;
}

/**
 * `path` (which may carry a query of its own, like a `loginPath` of `/login?x=1`) with `params`
 * added to its query: `/login?x=1&callbackUrl=%2Fdashboard`. A fragment is dropped.
 */
export function withQuery(path: string, params: Record<string, string | undefined>): string {
  const noHash = path.split('#')[0]!;
  const i = noHash.indexOf('?');
  const base = i < 0 ? noHash : noHash.slice(0, i);
  const q = new URLSearchParams(i < 0 ? '' : noHash.slice(i + 1));
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const qs = q.toString();
  return qs ? `${base}?${qs}` : base;
}
