// End-to-end global setup: a real Gatehouse (3-second access tokens), the example app built with
// `next build` and served by `next start` on a free loopback port.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readdirSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { buildGatehouse, repoRoot, startGatehouse, userWithKey, type RunningGatehouse } from '../gatehouse-server.js';

const run = promisify(execFile);
export const exampleDir = path.join(repoRoot, 'examples/nextjs');
export const ACCESS_TTL_SECONDS = 3;

export interface E2EApp {
  /** Which file convention the app uses. */
  name: string;
  url: string;
  dir: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: {
      gatehouseUrl: string;
      appKey: string;
      machineKey: string;
      userEmail: string;
      userPassword: string;
      builtWithKey: boolean;
      apps: E2EApp[];
    };
  }
}

/**
 * The example as Next 16's proxy.ts would have it: a copy of examples/nextjs (node_modules
 * hard-linked) whose middleware.ts becomes proxy.ts with `export default createMiddleware(...)`.
 * It runs on the Node.js runtime, where middleware.ts runs on the Edge runtime.
 */
function prepareProxyVariant(dir: string): void {
  for (const name of readdirSync(exampleDir)) {
    if (['node_modules', '.next', 'next-env.d.ts', 'middleware.ts'].includes(name) || name.endsWith('.tsbuildinfo')) continue;
    cpSync(path.join(exampleDir, name), path.join(dir, name), { recursive: true });
  }
  // The example's build cache (a real copy) makes this second build faster.
  const cache = path.join(exampleDir, '.next/cache');
  if (existsSync(cache)) cpSync(cache, path.join(dir, '.next/cache'), { recursive: true });
  const src = readFileSync(path.join(exampleDir, 'middleware.ts'), 'utf8');
  const proxy = src.replace('export const middleware = createMiddleware(', 'export default createMiddleware(');
  if (proxy === src) throw new Error('examples/nextjs/middleware.ts no longer has `export const middleware = createMiddleware(`');
  writeFileSync(path.join(dir, 'proxy.ts'), proxy);
  // Same sources as the first build, which type-checked them: skip Next's type check here.
  if (!existsSync(path.join(dir, 'next.config.ts'))) throw new Error('examples/nextjs/next.config.ts is gone: update prepareProxyVariant');
  cpSync(path.join(dir, 'next.config.ts'), path.join(dir, 'next.config.base.ts'));
  writeFileSync(
    path.join(dir, 'next.config.ts'),
    "import base from './next.config.base';\n\nexport default { ...base, typescript: { ...base.typescript, ignoreBuildErrors: true } };\n",
  );
}

async function linkNodeModules(dir: string): Promise<void> {
  // Hard links (a copy across file systems): Turbopack refuses a node_modules symlink that points
  // outside the project.
  const from = path.join(exampleDir, 'node_modules');
  const to = path.join(dir, 'node_modules');
  await run('cp', ['-al', from, to]).catch(async () => {
    rmSync(to, { recursive: true, force: true });
    await run('cp', ['-a', from, to]);
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function log(msg: string) {
  console.log(`[e2e] ${msg}`);
}

/** Stops a `next start` we spawned as the leader of its own process group, with everything it forked. */
async function stopProcessGroup(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-proc.pid!, sig);
    } catch {
      proc.kill(sig);
    }
  };
  signal('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (proc.exitCode === null && proc.signalCode === null) signal('SIGKILL');
}

/** `next start` on a free loopback port; resolves once /login answers 200. */
async function startNext(dir: string, env: NodeJS.ProcessEnv, name: string): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(path.join(dir, 'node_modules/.bin/next'), ['start', '-H', '127.0.0.1', '-p', String(port)], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  proc.stdout!.on('data', (d) => {
    out += d;
    if (process.env.E2E_VERBOSE) process.stdout.write(`[next ${name}] ${d}`);
  });
  proc.stderr!.on('data', (d) => {
    out += d;
    process.stderr.write(`[next ${name}] ${d}`);
  });
  const deadline = Date.now() + 30000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`next start (${name}) exited with ${proc.exitCode}:\n${out}`);
    try {
      const r = await fetch(url + '/login');
      if (r.status === 200) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      await stopProcessGroup(proc);
      throw new Error(`next start (${name}) did not answer in 30s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, proc };
}

export default async function setup(project: TestProject) {
  const t0 = Date.now();
  const buildDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bin-'));
  let gatehouse: RunningGatehouse | undefined;
  const servers: ChildProcess[] = [];
  const tempDirs: string[] = [buildDir];
  const cleanup = async () => {
    await Promise.all(servers.map(stopProcessGroup));
    await gatehouse?.stop();
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  };

  try {
    const bin = await buildGatehouse(buildDir);
    const keys: { app?: string; machine?: string } = {};
    gatehouse = await startGatehouse(bin, { GATEHOUSE_ACCESS_TOKEN_TTL: `${ACCESS_TTL_SECONDS}s`, GATEHOUSE_RATE_LIMITS: 'on' }, async (cli) => {
      keys.app = await userWithKey(cli, 'app@example.com', 'admin', ['tokens:introspect']);
      keys.machine = await userWithKey(cli, 'robot@example.com', 'user', ['profile:read']);
    });
    log(`gatehouse at ${gatehouse.url} (${Date.now() - t0} ms)`);
    const userEmail = 'e2e-user@example.com';
    const userPassword = 'a long e2e password 42';
    const reg = await fetch(`${gatehouse.url}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: userEmail, password: userPassword, name: 'E2E User' }),
    });
    if (reg.status !== 201) throw new Error(`register: ${reg.status} ${await reg.text()}`);

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'production',
      NEXT_TELEMETRY_DISABLED: '1',
      GATEHOUSE_URL: gatehouse.url,
      GATEHOUSE_API_KEY: keys.app!,
    };
    const variants = (process.env.E2E_VARIANTS ?? 'middleware,proxy').split(',').map((v) => v.trim());
    const skipBuild = process.env.E2E_SKIP_BUILD === '1';
    const apps: E2EApp[] = [];
    let allBuilt = true;
    for (const variant of variants) {
      let dir: string;
      let name: string;
      if (variant === 'middleware') {
        dir = exampleDir;
        name = 'middleware.ts (Edge runtime)';
      } else if (variant === 'proxy') {
        name = 'proxy.ts (Node.js runtime)';
        // Outside any npm project, so that Next.js takes the copy itself as the workspace root.
        dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-example-proxy-'));
        tempDirs.push(dir);
        prepareProxyVariant(dir);
        await linkNodeModules(dir);
      } else {
        throw new Error(`E2E_VARIANTS: unknown variant ${variant}`);
      }
      if (skipBuild && existsSync(path.join(dir, '.next/BUILD_ID'))) {
        log(`${name}: E2E_SKIP_BUILD=1, reusing the existing build (the bundle grep is then only indicative)`);
        allBuilt = false;
      } else {
        const tb = Date.now();
        // The API key is in the build environment on purpose: if anything inlined it into client
        // bundles, the grep in the test would find it.
        const { stdout, stderr } = await run(path.join(dir, 'node_modules/.bin/next'), ['build'], { cwd: dir, env, maxBuffer: 64 << 20 }).catch(
          (err: { stdout?: string; stderr?: string }) => {
            throw new Error(`next build (${name}) failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
          },
        );
        if (process.env.E2E_VERBOSE) console.log(stdout, stderr);
        const kind = /Proxy \(Middleware\)|Middleware/.exec(stdout)?.[0];
        log(`${name}: next build ${Date.now() - tb} ms${kind ? '' : ' (WARNING: the build output names no middleware/proxy)'}`);
      }
      const started = await startNext(dir, env, name);
      servers.push(started.proc);
      apps.push({ name, url: started.url, dir });
      log(`${name}: next start at ${started.url}`);
    }
    log(`setup took ${Date.now() - t0} ms`);

    project.provide('e2e', {
      gatehouseUrl: gatehouse.url,
      appKey: keys.app!,
      machineKey: keys.machine!,
      userEmail,
      userPassword,
      builtWithKey: allBuilt,
      apps,
    });
  } catch (e) {
    await cleanup();
    throw e;
  }
  return cleanup;
}

