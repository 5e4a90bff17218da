// Cache Components: the server helpers await connection() before reading request data or the clock.
import { describe, expect, it, inject, vi, beforeEach } from 'vitest';
import { cookiesOf, register } from './helpers.js';
import type { TokenResponse } from '../src/client.js';

const calls: string[] = [];
let cookieJar: Record<string, string> = {};
let headerJar: Record<string, string> = {};

vi.mock('next/server', async (importOriginal) => ({
  ...(await importOriginal<typeof import('next/server')>()),
  connection: vi.fn(async () => {
    calls.push('connection');
  }),
}));
vi.mock('next/headers', () => ({
  headers: async () => {
    calls.push('headers');
    return new Headers(headerJar);
  },
  cookies: async () => {
    calls.push('cookies');
    return { get: (name: string) => (name in cookieJar ? { name, value: cookieJar[name] } : undefined) };
  },
}));

const { createGatehouse } = await import('../src/server.js');
const main = inject('main');

describe('connection() before request data (Cache Components)', () => {
  let alice: TokenResponse;
  beforeEach(async () => {
    calls.length = 0;
    cookieJar = {};
    headerJar = { 'x-gatehouse-path': '/page' };
    alice ??= await register(main.url);
  });

  it('auth(), getToken() and requireUser() await connection() first', async () => {
    const g = createGatehouse({ authUrl: main.url, apiKey: main.appKey });
    cookieJar = cookiesOf(alice);
    expect((await g.auth())?.user.id).toBe(alice.user.id);
    expect(calls[0]).toBe('connection');
    expect(calls).toContain('cookies');
    calls.length = 0;
    expect(await g.getToken()).toBe(alice.access_token);
    expect(calls[0]).toBe('connection');
    calls.length = 0;
    cookieJar = {};
    await expect(g.requireUser()).rejects.toMatchObject({ digest: expect.stringMatching(/^NEXT_REDIRECT/) });
    expect(calls[0]).toBe('connection');
  });

  it('currentUser(): the user of the current request, or null', async () => {
    const g = createGatehouse({ authUrl: main.url, apiKey: main.appKey });
    cookieJar = cookiesOf(alice);
    expect(await g.currentUser()).toMatchObject({ id: alice.user.id, email: alice.user.email });
    expect(calls[0]).toBe('connection');
    cookieJar = {};
    expect(await createGatehouse({ authUrl: main.url, apiKey: main.appKey }).currentUser()).toBeNull();
  });

  it('says once, with the fix, when the middleware did not see the request (none, a matcher that skips the path, or proxy.ts on Next 15)', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const g = createGatehouse({ authUrl: main.url, apiKey: main.appKey });
      cookieJar = cookiesOf(alice);
      expect((await g.auth())?.user.id).toBe(alice.user.id);
      expect(warn).not.toHaveBeenCalled();
      headerJar = {};
      expect((await g.auth())?.user.id).toBe(alice.user.id);
      await g.auth();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/did not see.*middleware\.ts \(Next 15; proxy\.ts is Next 16 only\)/);
    } finally {
      warn.mockRestore();
    }
  });
});
