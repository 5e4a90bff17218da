// End-to-end global setup: a real Gatehouse (3-second access tokens), the example app built with
// `next build` and served by `next start` on a free loopback port.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync, readdirSync, cpSync, readFileSync, writeFileSync, symlinkSync } from 'node:fs';
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
  /** Which variant: file convention, runtime, Next version, install. */
  name: string;
  url: string;
  dir: string;
  /** The whole browser suite runs on the main variant; the others get the smoke subset. */
  full: boolean;
  /** The variant's proxy.ts is the callback form (gatehouse.proxy((auth, req) => …) with protect()). */
  callback: boolean;
  /** Where the middleware runs: middleware.ts on the Edge runtime, proxy.ts on Node.js. */
  runtime: 'edge' | 'nodejs';
  /** The build had GATEHOUSE_API_KEY in its environment (the bundle grep is meaningful). */
  builtWithKey: boolean;
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: {
      gatehouseUrl: string;
      appKey: string;
      machineKey: string;
      userEmail: string;
      userPassword: string;
      apps: E2EApp[];
    };
  }
}

/** Copies examples/nextjs (sources only) into dir, with the build cache when there is one. */
function copyExample(dir: string, skip: string[] = []): void {
  for (const name of readdirSync(exampleDir)) {
    if (['node_modules', '.next', 'next-env.d.ts', ...skip].includes(name) || name.endsWith('.tsbuildinfo')) continue;
    cpSync(path.join(exampleDir, name), path.join(dir, name), { recursive: true });
  }
  // The example's build cache (a real copy) makes the variant's build faster.
  const cache = path.join(exampleDir, '.next/cache');
  if (existsSync(cache)) cpSync(cache, path.join(dir, '.next/cache'), { recursive: true });
}

/** Same sources as the main build, which type-checked them: skip Next's type check. */
function skipTypeCheck(dir: string): void {
  if (!existsSync(path.join(dir, 'next.config.ts'))) throw new Error('examples/nextjs/next.config.ts is gone: update the e2e variants');
  cpSync(path.join(dir, 'next.config.ts'), path.join(dir, 'next.config.base.ts'));
  writeFileSync(
    path.join(dir, 'next.config.ts'),
    "import base from './next.config.base';\n\nexport default { ...base, typescript: { ...base.typescript, ignoreBuildErrors: true } };\n",
  );
}

/** The one-configuration module and the callback proxy, as the README shows them. */
export const GATEHOUSE_TS = `import { createGatehouse } from '@gatehouse/next-sdk/server';

export const gatehouse = createGatehouse({
  apiKey: process.env.GATEHOUSE_API_KEY!,
  loginPath: '/login',
});
`;
export const CALLBACK_PROXY_TS = `import { createRouteMatcher } from '@gatehouse/next-sdk/server';
import { gatehouse } from './gatehouse';

const isAdmin = createRouteMatcher(['/admin(.*)']);
const isProtected = createRouteMatcher(['/dashboard', '/api/protected', '/pages-router']);

export default gatehouse.proxy((auth, request) => {
  if (isAdmin(request)) auth.protect({ role: 'admin' });
  else if (isProtected(request)) auth.protect();
});

export const config = { matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'] };
`;

/**
 * Next 16's proxy.ts (Node.js runtime) in the callback form, with Cache Components on
 * (EXAMPLE_CACHE_COMPONENTS=1): a copy of examples/nextjs without its middleware.ts. Type-checked
 * by Next's build (the callback's types are new sources).
 */
function prepareProxyVariant(dir: string): void {
  copyExample(dir, ['middleware.ts']);
  // Under Cache Components a page that reads the session must say that it renders at request time
  // (or wrap the reading in <Suspense>), as the README tells: Next 16 refuses the export without
  // Cache Components, so the example itself cannot carry it.
  for (const page of ['app/page.tsx', 'app/login/page.tsx', 'app/dashboard/page.tsx', 'app/admin/page.tsx']) {
    const file = path.join(dir, page);
    const src = readFileSync(file, 'utf8');
    if (!src.includes("from '@gatehouse/next-sdk/server'")) throw new Error(`${page} no longer reads the session: update prepareProxyVariant`);
    writeFileSync(file, src.replace(/^export default /m, 'export const instant = false;\n\nexport default '));
  }
  writeFileSync(path.join(dir, 'gatehouse.ts'), GATEHOUSE_TS);
  writeFileSync(path.join(dir, 'proxy.ts'), CALLBACK_PROXY_TS);
}

/** The example on Next 15.5 (which peerDependencies promise): middleware.ts as the guide writes it,
 * the SDK installed as a packed copy (the example's .npmrc). */
async function prepareNext15Variant(dir: string, sdkDir: string): Promise<void> {
  copyExample(dir, ['package-lock.json']);
  rmSync(path.join(dir, '.next'), { recursive: true, force: true }); // Next 16's cache is no use to 15
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  pkg.dependencies.next = process.env.NEXT15_VERSION ?? '15.5.29';
  pkg.dependencies['@gatehouse/next-sdk'] = `file:${sdkDir}`;
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: dir, maxBuffer: 16 << 20 }).catch(
    (err: { stdout?: string; stderr?: string }) => {
      throw new Error(`npm install of the example with next ${pkg.dependencies.next} failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
    },
  );
}

/** What the README tells apps with a symlinked SDK (`npm i ../sdk`) to put in next.config.ts. */
export const SYMLINK_NEXT_CONFIG = `import path from 'node:path';
import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // The SDK is a symlink to a folder outside this project (npm i ../sdk): let Turbopack and output
  // file tracing see the folder that holds both.
  turbopack: { root: path.join(__dirname, '..') },
  outputFileTracingRoot: path.join(__dirname, '..'),
};

export default nextConfig;
`;

/**
 * A symlinked install under Turbopack, as \`npm i ../sdk\` (install-links=false) leaves it:
 * root/sdk is the SDK's folder (its package files, and its own node_modules with the dev copies of
 * next and react, as a developer's checkout has them), root/app a copy of the example whose
 * node_modules/@gatehouse/next-sdk is a symlink to ../../../sdk, and whose next.config.ts is the
 * README's.
 */
async function prepareSymlinkVariant(root: string, sdkDir: string): Promise<string> {
  const sdk = path.join(root, 'sdk');
  const app = path.join(root, 'app');
  mkdirSync(sdk);
  mkdirSync(app);
  for (const name of ['package.json', 'dist']) cpSync(path.join(sdkDir, name), path.join(sdk, name), { recursive: true });
  await hardLink(path.join(sdkDir, 'node_modules'), path.join(sdk, 'node_modules'));
  copyExample(app, ['.npmrc']);
  writeFileSync(path.join(app, 'next.config.ts'), SYMLINK_NEXT_CONFIG);
  await linkNodeModules(app);
  const link = path.join(app, 'node_modules/@gatehouse/next-sdk');
  rmSync(link, { recursive: true, force: true });
  symlinkSync('../../../sdk', link);
  return app;
}

export async function hardLink(from: string, to: string): Promise<void> {
  await run('cp', ['-al', from, to]).catch(async () => {
    rmSync(to, { recursive: true, force: true });
    await run('cp', ['-a', from, to]);
  });
}

async function linkNodeModules(dir: string): Promise<void> {
  // Hard links (a copy across file systems): Turbopack refuses a node_modules symlink that points
  // outside the project.
  await hardLink(path.join(exampleDir, 'node_modules'), path.join(dir, 'node_modules'));
}

export async function freePort(): Promise<number> {
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
export async function stopProcessGroup(proc: ChildProcess): Promise<void> {
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
export async function startNext(dir: string, env: NodeJS.ProcessEnv, name: string, host = '127.0.0.1'): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const url = `http://${host}:${port}`;
  const proc = spawn(path.join(dir, 'node_modules/.bin/next'), ['start', '-H', host, '-p', String(port)], {
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
    // The matrix: the main variant gets the whole browser suite, the others a smoke subset.
    //   middleware  examples/nextjs itself: middleware.ts (Edge), Next 16, Cache Components off
    //   proxy       proxy.ts (Node.js) in the callback form, Next 16, Cache Components on
    //   next15      middleware.ts (Edge), Next 15.5, the SDK as a packed copy
    //   symlink     the SDK as a symlink outside the project (npm i ../sdk), Turbopack, Next 16
    const variants = (process.env.E2E_VARIANTS ?? 'middleware,proxy,next15,symlink').split(',').map((v) => v.trim()).filter(Boolean);
    const skipBuild = process.env.E2E_SKIP_BUILD === '1';
    const sdkDir = path.join(repoRoot, 'sdks/nextjs');
    const apps: E2EApp[] = [];
    for (const variant of variants) {
      let dir: string;
      let name: string;
      let appEnv = env;
      let host = '127.0.0.1';
      const fresh = () => {
        // Outside any npm project, so that Next.js takes the copy itself as the workspace root.
        const d = mkdtempSync(path.join(tmpdir(), `gatehouse-example-${variant}-`));
        tempDirs.push(d);
        return d;
      };
      const app: Omit<E2EApp, 'url' | 'dir' | 'name' | 'builtWithKey'> = { full: false, callback: false, runtime: 'edge' };
      if (variant === 'middleware') {
        dir = exampleDir;
        name = 'middleware.ts (Edge runtime), Next 16';
        app.full = true;
      } else if (variant === 'proxy') {
        name = 'proxy.ts callback (Node.js runtime), Next 16, Cache Components';
        dir = fresh();
        prepareProxyVariant(dir);
        await linkNodeModules(dir);
        appEnv = { ...env, EXAMPLE_CACHE_COMPONENTS: '1' };
        app.callback = true;
        app.runtime = 'nodejs';
      } else if (variant === 'next15') {
        name = `middleware.ts (Edge runtime), Next ${process.env.NEXT15_VERSION ?? '15.5.29'}`;
        dir = fresh();
        await prepareNext15Variant(dir, sdkDir);
        // Next 15.5 gives the middleware a request URL on `localhost` whatever -H says, and makes a
        // redirect relative only when its host is the one -H named: on -H 127.0.0.1 every
        // middleware redirect (the SDK's, or NextResponse.redirect(new URL('/x', req.url))) sends
        // the browser to localhost. Served as `localhost`, as `next start` without -H is.
        host = 'localhost';
      } else if (variant === 'symlink') {
        name = 'middleware.ts, SDK installed as a symlink (Turbopack)';
        dir = await prepareSymlinkVariant(fresh(), sdkDir);
        skipTypeCheck(dir);
      } else {
        throw new Error(`E2E_VARIANTS: unknown variant ${variant}`);
      }
      let builtWithKey = true;
      if (skipBuild && existsSync(path.join(dir, '.next/BUILD_ID'))) {
        log(`${name}: E2E_SKIP_BUILD=1, reusing the existing build (the bundle grep is then only indicative)`);
        builtWithKey = false;
      } else {
        const tb = Date.now();
        // The API key is in the build environment on purpose: if anything inlined it into client
        // bundles, the grep in the test would find it.
        const { stdout, stderr } = await run(path.join(dir, 'node_modules/.bin/next'), ['build'], { cwd: dir, env: appEnv, maxBuffer: 64 << 20 }).catch(
          (err: { stdout?: string; stderr?: string }) => {
            throw new Error(`next build (${name}) failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
          },
        );
        if (process.env.E2E_VERBOSE) console.log(stdout, stderr);
        const kind = /Proxy \(Middleware\)|Middleware/.exec(stdout)?.[0];
        log(`${name}: next build ${Date.now() - tb} ms${kind ? '' : ' (WARNING: the build output names no middleware/proxy)'}`);
      }
      const started = await startNext(dir, appEnv, name, host);
      servers.push(started.proc);
      apps.push({ ...app, name, url: started.url, dir, builtWithKey });
      log(`${name}: next start at ${started.url}`);
    }
    log(`setup took ${Date.now() - t0} ms`);

    project.provide('e2e', {
      gatehouseUrl: gatehouse.url,
      appKey: keys.app!,
      machineKey: keys.machine!,
      userEmail,
      userPassword,
      apps,
    });
  } catch (e) {
    await cleanup();
    throw e;
  }
  return cleanup;
}

