// Builds beside the example's variants:
// - Next 16 refuses a proxy.ts that keeps the guide's `export const middleware`, with a hint that
//   names the fix (the README's troubleshooting points there);
// - the npm alias of the AINative guide: a tiny app whose middleware.ts is the guide's snippet,
//   unchanged (`@ainative/next-sdk/middleware`, `process.env.AINATIVE_API_KEY`), against a packed
//   tarball of the SDK installed under the alias name, built, started and asked for real.
import { describe, expect, it, inject, afterAll } from 'vitest';
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { exampleDir, hardLink, startNext, stopProcessGroup } from './setup.js';
import { repoRoot } from '../gatehouse-server.js';

const run = promisify(execFile);
const e = inject('e2e');
const sdkDir = path.join(repoRoot, 'sdks/nextjs');
const temp: string[] = [];
const servers: ChildProcess[] = [];

afterAll(async () => {
  await Promise.all(servers.map(stopProcessGroup));
  for (const d of temp) rmSync(d, { recursive: true, force: true });
});

function tempDir(tag: string): string {
  const d = mkdtempSync(path.join(tmpdir(), `gatehouse-${tag}-`));
  temp.push(d);
  return d;
}

/** `next build` in dir: its exit status and everything it printed. */
async function nextBuild(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<{ ok: boolean; output: string }> {
  return run(path.join(dir, 'node_modules/.bin/next'), ['build'], { cwd: dir, env: { ...env, NEXT_TELEMETRY_DISABLED: '1' }, maxBuffer: 64 << 20 }).then(
    (r) => ({ ok: true, output: r.stdout + r.stderr }),
    (err: { stdout?: string; stderr?: string }) => ({ ok: false, output: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
  );
}

/** The README's code block that starts with `first`. */
function readmeSnippet(first: string): string {
  const readme = readFileSync(path.join(sdkDir, 'README.md'), 'utf8');
  const start = readme.indexOf('```ts\n' + first);
  if (start < 0) throw new Error(`README.md has no \`\`\`ts block starting with ${first}`);
  const body = readme.slice(start + 6);
  return body.slice(0, body.indexOf('```'));
}

describe('a proxy.ts that keeps the guide\'s `export const middleware`', () => {
  it('fails the Next 16 build, with a hint that names the fix', async () => {
    const dir = tempDir('proxy-misnamed');
    for (const name of readdirSync(exampleDir)) {
      if (['node_modules', '.next', 'next-env.d.ts'].includes(name) || name.endsWith('.tsbuildinfo')) continue;
      rmSync(path.join(dir, name), { recursive: true, force: true });
      await run('cp', ['-r', path.join(exampleDir, name), path.join(dir, name)]);
    }
    // The guide's file, only renamed.
    renameSync(path.join(dir, 'middleware.ts'), path.join(dir, 'proxy.ts'));
    expect(readFileSync(path.join(dir, 'proxy.ts'), 'utf8')).toContain('export const middleware = createMiddleware(');
    await hardLink(path.join(exampleDir, 'node_modules'), path.join(dir, 'node_modules'));
    const { ok, output } = await nextBuild(dir);
    expect(ok, output).toBe(false);
    expect(output).toContain('Proxy is missing expected function export name');
    expect(output).toContain('Ensure this file has either a default or "proxy" function export');
  }, 180_000);
});

describe('the npm alias @ainative/next-sdk (the guide\'s snippet, unchanged)', () => {
  it('installs from a packed tarball under the alias name, builds, and guards the app with AINATIVE_API_KEY', async () => {
    const root = tempDir('alias');
    const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', root], { cwd: sdkDir });
    const tarball = path.join(root, stdout.trim().split('\n').pop()!);
    const app = path.join(root, 'app');
    mkdirSync(path.join(app, 'app/dashboard'), { recursive: true });
    mkdirSync(path.join(app, 'app/login'), { recursive: true });
    mkdirSync(path.join(app, 'app/api/protected'), { recursive: true });
    // The example's own versions of next, react and TypeScript (its node_modules, hard-linked).
    const example = JSON.parse(readFileSync(path.join(exampleDir, 'package.json'), 'utf8'));
    const installed = (name: string) => JSON.parse(readFileSync(path.join(exampleDir, 'node_modules', name, 'package.json'), 'utf8')).version;
    const deps = (names: string[]) => Object.fromEntries(names.map((n) => [n, installed(n)]));
    writeFileSync(
      path.join(app, 'package.json'),
      JSON.stringify(
        {
          name: 'ainative-alias-app',
          private: true,
          dependencies: deps(Object.keys(example.dependencies).filter((n) => n !== '@gatehouse/next-sdk')),
          devDependencies: deps(Object.keys(example.devDependencies)),
        },
        null,
        2,
      ),
    );
    await hardLink(path.join(exampleDir, 'node_modules'), path.join(app, 'node_modules'));
    // What `npm i @ainative/next-sdk@npm:@gatehouse/next-sdk` does, from the tarball: the package
    // @gatehouse/next-sdk in node_modules/@ainative/next-sdk.
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', `@ainative/next-sdk@file:${tarball}`], {
      cwd: app,
      maxBuffer: 16 << 20,
    });
    const aliased = JSON.parse(readFileSync(path.join(app, 'node_modules/@ainative/next-sdk/package.json'), 'utf8'));
    expect(aliased.name).toBe('@gatehouse/next-sdk');

    const snippet = readmeSnippet("import { createMiddleware } from '@ainative/next-sdk/middleware';");
    expect(snippet).toContain('process.env.AINATIVE_API_KEY');
    writeFileSync(path.join(app, 'middleware.ts'), snippet);
    writeFileSync(
      path.join(app, 'app/layout.tsx'),
      "export default function Layout({ children }: { children: React.ReactNode }) {\n  return (\n    <html>\n      <body>{children}</body>\n    </html>\n  );\n}\n",
    );
    writeFileSync(path.join(app, 'app/login/page.tsx'), 'export default function Login() {\n  return <p>login page</p>;\n}\n');
    writeFileSync(
      path.join(app, 'app/dashboard/page.tsx'),
      "import { headers } from 'next/headers';\n\nexport default async function Dashboard() {\n  const h = await headers();\n  return <p>dashboard of {h.get('x-gatehouse-user-id')}</p>;\n}\n",
    );
    writeFileSync(
      path.join(app, 'app/api/protected/route.ts'),
      "export function GET(request: Request) {\n  return Response.json({ auth: request.headers.get('x-gatehouse-auth'), scope: request.headers.get('x-gatehouse-scope') });\n}\n",
    );
    const env = { ...process.env, NODE_ENV: 'production' as const, GATEHOUSE_URL: e.gatehouseUrl, AINATIVE_API_KEY: e.appKey, GATEHOUSE_API_KEY: '' };
    const { ok, output } = await nextBuild(app, env);
    expect(ok, output).toBe(true);

    const started = await startNext(app, env, 'ainative alias app');
    servers.push(started.proc);
    const get = (p: string, headers: Record<string, string> = {}) => fetch(started.url + p, { headers, redirect: 'manual' });
    const anonymous = await get('/dashboard');
    expect(anonymous.status).toBe(307);
    const loc = new URL(anonymous.headers.get('location')!, started.url);
    expect(loc.origin + loc.pathname + loc.search).toBe(`${started.url}/login?callbackUrl=%2Fdashboard`);
    const login = await fetch(`${e.gatehouseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: e.userEmail, password: e.userPassword }),
    });
    const tokens = (await login.json()) as { access_token: string; user: { id: string } };
    const signedIn = await get('/dashboard', { cookie: `gatehouse_access_token=${tokens.access_token}` });
    expect(signedIn.status).toBe(200);
    expect(await signedIn.text()).toContain(`dashboard of <!-- -->${tokens.user.id}`);
    // The machine caller's key is checked through introspection with the app key, read from
    // AINATIVE_API_KEY (GATEHOUSE_API_KEY is empty).
    const machine = await get('/api/protected', { 'X-API-Key': e.machineKey });
    expect(machine.status).toBe(200);
    expect(await machine.json()).toEqual({ auth: 'api_key', scope: 'profile:read' });
    expect((await get('/api/protected', { 'X-API-Key': 'ak_' + 'x'.repeat(38) })).status).toBe(401);
  }, 240_000);
});
