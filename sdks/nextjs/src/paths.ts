// Path normalisation and matching. The middleware decides from the path alone whether a request
// is protected, so it has to see the path the way every later layer might: Next's router, a
// reverse proxy, a case-insensitive file system. It computes every plausible reading of the path
// and fails closed: a path is protected when ANY reading falls under a protected prefix, and public
// only when EVERY reading falls under a public prefix.

const MAX_DECODE_ROUNDS = 3;

/** Decodes %XX escapes of ASCII characters only (so `%2F`, `%5C`, `%2E` become `/`, `\`, `.`),
 * leaving other escapes alone; unlike decodeURIComponent it never throws. */
function decodeAsciiEscapes(s: string): string {
  return s.replace(/%([0-7][0-9a-fA-F])/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Backslashes become slashes, runs of slashes collapse, the trailing slash goes, case folds. */
function collapse(p: string): string {
  let s = p.replace(/\\/g, '/').replace(/\/{2,}/g, '/');
  if (!s.startsWith('/')) s = '/' + s;
  while (s.length > 1 && s.endsWith('/')) s = s.slice(0, -1);
  return s.toLowerCase();
}

/** Resolves `.` and `..` segments the way a URL parser would. */
function resolveDots(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      out.pop();
      continue;
    }
    out.push(seg);
  }
  return '/' + out.join('/');
}

/** Every reading of a request path that the matcher must consider. */
export function pathCandidates(pathname: string): string[] {
  const set = new Set<string>();
  let cur = pathname;
  for (let round = 0; round <= MAX_DECODE_ROUNDS; round++) {
    const c = collapse(cur);
    set.add(c);
    set.add(resolveDots(c));
    // Some servers ignore ";params" in a segment (/dashboard;x=1): read it both ways.
    if (c.includes(';')) set.add(resolveDots(c.replace(/;[^/]*/g, '')));
    const next = decodeAsciiEscapes(cur);
    if (next === cur) break;
    cur = next;
  }
  return [...set];
}

/** A configured path, normalised like a request path (but never decoded). */
export function normalisePattern(p: string): string {
  if (typeof p !== 'string' || !p.startsWith('/')) {
    throw new TypeError(`gatehouse: paths must start with "/", got ${JSON.stringify(p)}`);
  }
  return collapse(p);
}

/** Segment-boundary prefix match: `/dashboard` covers `/dashboard` and `/dashboard/x`, not `/dashboardx`. */
export function underPrefix(candidate: string, pattern: string): boolean {
  return pattern === '/' || candidate === pattern || candidate.startsWith(pattern + '/');
}

export type RouteKind = 'public' | 'protected' | 'open';

export interface RouteClass {
  kind: RouteKind;
  /** True when any reading of the path is under an API prefix: errors are JSON, never redirects. */
  api: boolean;
}

export interface PathRules {
  protectedPaths: string[];
  /** Public prefixes (the app's own `publicPaths`). */
  publicPaths: string[];
  /** Paths public on an exact match only, never as prefixes: the login page and the SDK's own
   * endpoints. A login page at `/account` must not make `/account/settings` public. */
  exactPublic: string[];
  /** Prefixes under which exactly one more segment is public (`/api/auth/oauth/<provider>`). */
  oneSegmentPublic: string[];
  apiPaths: string[];
}

export function compileRules(r: {
  protectedPaths?: string[];
  publicPaths?: string[];
  exactPublic?: string[];
  oneSegmentPublic?: string[];
  apiPaths?: string[];
}): PathRules {
  return {
    protectedPaths: (r.protectedPaths ?? []).map(normalisePattern),
    publicPaths: (r.publicPaths ?? []).map(normalisePattern),
    exactPublic: (r.exactPublic ?? []).map(normalisePattern),
    oneSegmentPublic: (r.oneSegmentPublic ?? []).map(normalisePattern),
    apiPaths: (r.apiPaths ?? ['/api']).map(normalisePattern),
  };
}

/** The paths the SDK itself must always leave open: the login page (exactly) and the route
 * handlers' own endpoints under authPath (exactly; the app's other routes there are its own). */
export function sdkPublicPaths(loginPath: string, authPath: string): { exactPublic: string[]; oneSegmentPublic: string[] } {
  const base = normalisePattern(authPath);
  const under = (s: string) => (base === '/' ? '/' + s : base + '/' + s);
  return {
    exactPublic: [normalisePattern(loginPath.split(/[?#]/)[0]!), ...['login', 'register', 'logout', 'refresh', 'session'].map(under)],
    oneSegmentPublic: [under('oauth'), under('callback')],
  };
}

function isOneSegmentUnder(candidate: string, prefix: string): boolean {
  if (!candidate.startsWith(prefix + '/')) return false;
  const rest = candidate.slice(prefix.length + 1);
  return rest.length > 0 && !rest.includes('/');
}

export function classifyPath(pathname: string, rules: PathRules): RouteClass {
  const cands = pathCandidates(pathname);
  const any = (list: string[]) => cands.some((c) => list.some((p) => underPrefix(c, p)));
  const api = any(rules.apiPaths);
  // Public only when EVERY reading is public, by one of the three kinds of rule.
  const isPublic = (c: string) =>
    rules.publicPaths.some((p) => underPrefix(c, p)) ||
    rules.exactPublic.includes(c) ||
    rules.oneSegmentPublic.some((p) => isOneSegmentUnder(c, p));
  if (cands.every(isPublic)) return { kind: 'public', api };
  if (any(rules.protectedPaths)) return { kind: 'protected', api };
  return { kind: 'open', api };
}

/** The request's path as a same-site relative reference, safe to put in `callbackUrl`: slashes
 * collapsed so that it can never read as a protocol-relative URL (`//evil.com`). */
export function relativeTarget(pathname: string, search: string): string {
  let p = pathname.replace(/\\/g, '/').replace(/\/{2,}/g, '/');
  if (!p.startsWith('/')) p = '/' + p;
  return p + (search && search !== '?' ? search : '');
}
