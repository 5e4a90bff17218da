// Cookie names and attributes. Over HTTPS the names carry the `__Host-` prefix, which browsers only
// accept with Secure, Path=/ and no Domain: a sibling subdomain cannot plant or overwrite them.
import type { ResolvedConfig } from './config.js';
import type { TokenResponse } from './client.js';

export interface SessionCookieNames {
  access: string;
  refresh: string;
  oauth: string;
}

export interface CookieAttributes {
  httpOnly: true;
  sameSite: 'lax';
  path: '/';
  secure: boolean;
  maxAge: number;
}

/** Minimal cookie-jar interface shared by NextResponse.cookies and next/headers cookies(). */
export interface CookieSetter {
  set(name: string, value: string, attrs: CookieAttributes): unknown;
}

function firstForwardedProto(headers: Headers): string | undefined {
  const v = headers.get('x-forwarded-proto');
  return v?.split(',')[0]?.trim().toLowerCase();
}

/** Whether this request arrived over HTTPS: the URL scheme, or the first X-Forwarded-Proto value
 * (which Next.js itself sets from the socket or a proxy). */
export function isSecureRequest(cfg: ResolvedConfig, headers: Headers, url?: URL): boolean {
  if (cfg.secureCookies !== undefined) return cfg.secureCookies;
  if (url && url.protocol === 'https:') return true;
  return firstForwardedProto(headers) === 'https';
}

export function cookieNames(cfg: ResolvedConfig, secure: boolean): SessionCookieNames {
  const p = secure ? '__Host-' : '';
  return { access: p + cfg.accessCookie, refresh: p + cfg.refreshCookie, oauth: p + 'gatehouse_oauth_state' };
}

export function cookieAttributes(cfg: ResolvedConfig, secure: boolean, maxAge = cfg.cookieMaxAge): CookieAttributes {
  return { httpOnly: true, sameSite: 'lax', path: '/', secure, maxAge };
}

/** Writes both session cookies. */
export function setSessionCookies(jar: CookieSetter, cfg: ResolvedConfig, secure: boolean, tokens: TokenResponse): void {
  const names = cookieNames(cfg, secure);
  const attrs = cookieAttributes(cfg, secure);
  jar.set(names.access, tokens.access_token, attrs);
  jar.set(names.refresh, tokens.refresh_token, attrs);
}

/** Expires both session cookies (only sign-out does this). */
export function clearSessionCookies(jar: CookieSetter, cfg: ResolvedConfig, secure: boolean): void {
  const names = cookieNames(cfg, secure);
  const attrs = cookieAttributes(cfg, secure, 0);
  jar.set(names.access, '', attrs);
  jar.set(names.refresh, '', attrs);
}

/** Parses a Cookie header (first occurrence of each name wins, as in browsers' ordering). */
export function parseCookieHeader(header: string | null): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const name = part.slice(0, i).trim();
    if (!name || out.has(name)) continue;
    out.set(name, part.slice(i + 1).trim());
  }
  return out;
}

/** Returns a Cookie header with the given cookies replaced (or added), others kept in order. */
export function replaceCookies(header: string | null, values: Record<string, string>): string {
  const parts: string[] = [];
  if (header) {
    for (const part of header.split(';')) {
      const i = part.indexOf('=');
      const name = (i < 0 ? part : part.slice(0, i)).trim();
      if (!name || name in values) continue;
      parts.push(part.trim());
    }
  }
  for (const [k, v] of Object.entries(values)) parts.push(`${k}=${v}`);
  return parts.join('; ');
}
