// Vitest global setup: builds gatehouse, starts two servers on loopback and hands their details
// to the tests. Server "main" issues 15-minute access tokens and knows a fake GitHub; server
// "short" issues 1-second tokens for the expiry and refresh tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startFakeGitHub } from './fake-github.js';
import { buildGatehouse, startGatehouse, userWithKey, keyFor, type RunningGatehouse } from './gatehouse-server.js';

export const OAUTH_REDIRECT = 'http://app.test/api/auth/callback/github';

export interface ServerInfo {
  url: string;
  /** The app's key: scope tokens:introspect. */
  appKey: string;
  /** A machine caller's key (regular user, scope profile:read). */
  machineKey: string;
  /** A machine caller's key with scopes profile:read and credits:read. */
  machineKeyCredits: string;
  /** A key without tokens:introspect (a misconfigured app). */
  weakKey: string;
  dataDir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    bin: string;
    main: ServerInfo;
    short: ServerInfo;
  }
}

export default async function setup(project: TestProject) {
  const started = Date.now();
  const buildDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bin-'));
  const bin = await buildGatehouse(buildDir);
  const gh = await startFakeGitHub();
  const servers: RunningGatehouse[] = [];

  async function start(extra: Record<string, string>): Promise<ServerInfo> {
    const keys: Partial<ServerInfo> = {};
    const s = await startGatehouse(bin, extra, async (cli) => {
      keys.appKey = await userWithKey(cli, 'app-admin@example.com', 'admin', ['tokens:introspect']);
      keys.weakKey = await keyFor(cli, 'app-admin@example.com', ['profile:read']);
      keys.machineKey = await userWithKey(cli, 'machine@example.com', 'user', ['profile:read']);
      keys.machineKeyCredits = await keyFor(cli, 'machine@example.com', ['profile:read', 'credits:read']);
    });
    servers.push(s);
    return { url: s.url, dataDir: s.dataDir, ...(keys as Required<Omit<ServerInfo, 'url' | 'dataDir'>>) };
  }

  try {
    const [main, short] = await Promise.all([
      start({
        GATEHOUSE_ACCESS_TOKEN_TTL: '15m',
        GATEHOUSE_GITHUB_CLIENT_ID: gh.clientId,
        GATEHOUSE_GITHUB_CLIENT_SECRET: gh.clientSecret,
        GATEHOUSE_GITHUB_URL: gh.url,
        GATEHOUSE_GITHUB_API_URL: gh.url,
        GATEHOUSE_OAUTH_REDIRECT_URIS: OAUTH_REDIRECT,
      }),
      start({ GATEHOUSE_ACCESS_TOKEN_TTL: '1s' }),
    ]);
    project.provide('bin', bin);
    project.provide('main', main);
    project.provide('short', short);
    console.log(`gatehouse servers ready in ${Date.now() - started} ms: main ${main.url}, short ${short.url}`);
  } catch (e) {
    await Promise.all(servers.map((s) => s.stop()));
    await gh.close();
    throw e;
  }

  return async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await gh.close();
    rmSync(buildDir, { recursive: true, force: true });
  };
}
