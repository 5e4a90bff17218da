// Pure functions: path readings, safeRedirect, early renewal, header encoding.
import { describe, expect, it } from 'vitest';
import { classifyPath, compileRules, pathCandidates, relativeTarget } from '../src/paths.js';
import { safeRedirect } from '../src/redirect.js';
import { shouldRenewEarly, type AccessClaims } from '../src/verify.js';
import { headerSafe, stripIdentityHeaders } from '../src/identity.js';
import { replaceCookies, parseCookieHeader } from '../src/cookies.js';
import { resolveConfig, GatehouseConfigError } from '../src/config.js';

describe('safeRedirect', () => {
  it.each([
    '//evil.com',
    '//evil.com/path',
    '/\\evil.com',
    '\\\\evil.com',
    '/\\/evil.com',
    'https://evil.com',
    'http://evil.com/dashboard',
    '/..//evil.com',
    '/../..//evil.com',
    '/./..//evil.com/x',
    '/\t/evil.com',
    '/\n/evil.com',
    ' //evil.com',
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'evil.com',
    '',
    'https:evil.com',
    '///evil.com',
  ])('refuses %j', (target) => {
    expect(safeRedirect(target, '/home')).toBe('/home');
  });

  it('refuses non-strings', () => {
    expect(safeRedirect(undefined)).toBe('/');
    expect(safeRedirect(null, '/x')).toBe('/x');
    expect(safeRedirect(['/a'])).toBe('/');
  });

  it.each([
    ['/dashboard', '/dashboard'],
    ['/dashboard?tab=1&x=%2F', '/dashboard?tab=1&x=%2F'],
    ['/a/b#frag', '/a/b#frag'],
    ['/a/../b', '/b'],
    ['/%2F%2Fevil.com', '/%2F%2Fevil.com'],
    ['/', '/'],
  ])('accepts %j as %j', (target, want) => {
    expect(safeRedirect(target, '/home')).toBe(want);
  });

  it('accepts absolute URLs only on the given origin', () => {
    expect(safeRedirect('https://app.example/x?y=1', '/', 'https://app.example')).toBe('/x?y=1');
    expect(safeRedirect('https://app.example.evil.com/x', '/', 'https://app.example')).toBe('/');
    expect(safeRedirect('http://app.example/x', '/', 'https://app.example')).toBe('/');
    expect(safeRedirect('https://app.example/x', '/')).toBe('/');
    expect(safeRedirect('https://app.example//evil.com', '/', 'https://app.example')).toBe('/');
  });
});

describe('paths', () => {
  const rules = compileRules({ protectedPaths: ['/dashboard', '/api/protected'], publicPaths: ['/login'] });

  it('reads a path every plausible way', () => {
    expect(pathCandidates('/dashboard%2F..')).toEqual(expect.arrayContaining(['/dashboard%2f..', '/dashboard/..', '/']));
    expect(pathCandidates('/%252Fdashboard')).toEqual(expect.arrayContaining(['/dashboard']));
    expect(pathCandidates('/caf%C3%A9')).toEqual(['/caf%c3%a9']);
  });

  it('classifies', () => {
    expect(classifyPath('/dashboard', rules)).toEqual({ kind: 'protected', api: false });
    expect(classifyPath('/api/protected/x', rules)).toEqual({ kind: 'protected', api: true });
    expect(classifyPath('/api/other', rules)).toEqual({ kind: 'open', api: true });
    expect(classifyPath('/login', rules)).toEqual({ kind: 'public', api: false });
    expect(classifyPath('/login/..%2Fdashboard', rules).kind).toBe('protected');
    expect(classifyPath('/', rules)).toEqual({ kind: 'open', api: false });
  });

  it('refuses patterns that are not paths', () => {
    expect(() => compileRules({ protectedPaths: ['dashboard'] })).toThrow(TypeError);
  });

  it('builds callback targets that cannot leave the site', () => {
    expect(relativeTarget('//evil.com', '?a=1')).toBe('/evil.com?a=1');
    expect(relativeTarget('/\\evil.com', '')).toBe('/evil.com');
    expect(relativeTarget('/a', '?')).toBe('/a');
  });
});

describe('early renewal', () => {
  const claims = (lifetime: number, left: number): AccessClaims => {
    const now = Date.now() / 1000;
    return { sub: 'u', exp: now + left, iat: now + left - lifetime };
  };
  it('renews in the last threshold seconds, at most half the lifetime', () => {
    expect(shouldRenewEarly(claims(900, 5), 10)).toBe(true);
    expect(shouldRenewEarly(claims(900, 60), 10)).toBe(false);
    expect(shouldRenewEarly(claims(4, 3), 10)).toBe(false);
    expect(shouldRenewEarly(claims(4, 1), 10)).toBe(true);
    expect(shouldRenewEarly(claims(900, 100), 0)).toBe(false);
  });
});

describe('headers and cookies', () => {
  it('encodes header values safely', () => {
    expect(headerSafe('a@b.c')).toBe('a@b.c');
    expect(decodeURIComponent(headerSafe('zoë@例え.jp'))).toBe('zoë@例え.jp');
    expect(headerSafe('a%b')).toBe('a%25b');
    expect(headerSafe('x\r\ny')).toBe('x%0D%0Ay');
    expect(() => new Headers({ a: headerSafe('\ud800 lone') })).not.toThrow();
  });

  it('strips every x-gatehouse-* header', () => {
    const h = stripIdentityHeaders(new Headers({ 'X-Gatehouse-User-Id': 'a', 'x-gatehouse-anything': 'b', 'x-other': 'c' }));
    expect([...h.keys()]).toEqual(['x-other']);
  });

  it('replaces cookies in a Cookie header', () => {
    expect(replaceCookies('a=1; gatehouse_access_token=old; b=2', { gatehouse_access_token: 'new', gatehouse_refresh_token: 'r' })).toBe(
      'a=1; b=2; gatehouse_access_token=new; gatehouse_refresh_token=r',
    );
    expect(replaceCookies(null, { x: 'y' })).toBe('x=y');
    expect(parseCookieHeader('a=1; a=2; b = 3').get('a')).toBe('1');
  });
});

describe('configuration', () => {
  it('needs a Gatehouse URL and a path-shaped loginPath', () => {
    const saved = process.env.GATEHOUSE_URL;
    delete process.env.GATEHOUSE_URL;
    try {
      expect(() => resolveConfig({})).toThrow(GatehouseConfigError);
      expect(() => resolveConfig({ authUrl: 'ftp://x' })).toThrow(GatehouseConfigError);
      expect(() => resolveConfig({ authUrl: 'http://x', loginPath: '//evil.com' })).toThrow(GatehouseConfigError);
      const c = resolveConfig({ authUrl: 'http://auth.internal:8080/' });
      expect(c.issuer).toBe('http://auth.internal:8080');
      expect(c.audience).toBe('http://auth.internal:8080');
      expect(c.jwksUrl).toBe('http://auth.internal:8080/.well-known/jwks.json');
      expect(c.algorithms).toEqual(['ES256']);
    } finally {
      if (saved !== undefined) process.env.GATEHOUSE_URL = saved;
    }
  });

  it('reads GATEHOUSE_* variables as defaults', () => {
    const keys = ['GATEHOUSE_URL', 'GATEHOUSE_ISSUER', 'GATEHOUSE_AUDIENCE', 'GATEHOUSE_API_KEY'] as const;
    const saved = keys.map((k) => process.env[k]);
    Object.assign(process.env, { GATEHOUSE_URL: 'http://gh:8080', GATEHOUSE_ISSUER: 'https://auth.example', GATEHOUSE_AUDIENCE: 'my-app', GATEHOUSE_API_KEY: 'ak_k' });
    try {
      const c = resolveConfig({});
      expect([c.authUrl, c.issuer, c.audience, c.apiKey]).toEqual(['http://gh:8080', 'https://auth.example', 'my-app', 'ak_k']);
    } finally {
      keys.forEach((k, i) => (saved[i] === undefined ? delete process.env[k] : (process.env[k] = saved[i])));
    }
  });
});
