// End-to-end global setup: a real Gatehouse (3-second access tokens), the example app built with
// `next build` and served by `next start` on a free loopback port.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { buildGatehouse, keyFor, repoRoot, startGatehouse, userWithKey, type RunningGatehouse } from '../gatehouse-server.js';

const run = promisify(execFile);
export const exampleDir = path.join(repoRoot, 'examples/nextjs');
export const ACCESS_TTL_SECONDS = 3;

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: {
      appUrl: string;
      gatehouseUrl: string;
      appKey: string;
      machineKey: string;
      userEmail: string;
      userPassword: string;
      exampleDir: string;
      builtWithKey: boolean;
    };
  }
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

export default async function setup(project: TestProject) {
  const t0 = Date.now();
  const buildDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bin-'));
  let gatehouse: RunningGatehouse | undefined;
  let next: ChildProcess | undefined;
  const cleanup = async () => {
    if (next && next.exitCode === null) {
      const exited = new Promise((r) => next!.once('exit', r));
      // next start runs as a process group leader (detached): end the group it spawned.
      try {
        process.kill(-next.pid!, 'SIGTERM');
      } catch {
        next.kill('SIGTERM');
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (next.exitCode === null) {
        try {
          process.kill(-next.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    await gatehouse?.stop();
    rmSync(buildDir, { recursive: true, force: true });
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
    const skipBuild = process.env.E2E_SKIP_BUILD === '1' && existsSync(path.join(exampleDir, '.next/BUILD_ID'));
    if (skipBuild) {
      log('E2E_SKIP_BUILD=1: reusing the existing .next build (the bundle grep is then only indicative)');
    } else {
      const tb = Date.now();
      // The API key is in the build environment on purpose: if anything inlined it into client
      // bundles, the grep in the test would find it.
      const { stdout, stderr } = await run(path.join(exampleDir, 'node_modules/.bin/next'), ['build'], { cwd: exampleDir, env, maxBuffer: 64 << 20 }).catch(
        (e: { stdout?: string; stderr?: string }) => {
          throw new Error(`next build failed:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
        },
      );
      if (process.env.E2E_VERBOSE) console.log(stdout, stderr);
      log(`next build: ${Date.now() - tb} ms`);
    }

    const port = await freePort();
    const appUrl = `http://127.0.0.1:${port}`;
    next = spawn(path.join(exampleDir, 'node_modules/.bin/next'), ['start', '-H', '127.0.0.1', '-p', String(port)], {
      cwd: exampleDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    next.stdout!.on('data', (d) => {
      out += d;
      if (process.env.E2E_VERBOSE) process.stdout.write(`[next] ${d}`);
    });
    next.stderr!.on('data', (d) => {
      out += d;
      process.stderr.write(`[next] ${d}`);
    });
    const deadline = Date.now() + 30000;
    for (;;) {
      if (next.exitCode !== null) throw new Error(`next start exited with ${next.exitCode}:\n${out}`);
      try {
        const r = await fetch(appUrl + '/login');
        if (r.status === 200) break;
      } catch {
        /* not yet */
      }
      if (Date.now() > deadline) throw new Error(`next start did not answer in 30s:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    log(`next start at ${appUrl}; setup took ${Date.now() - t0} ms`);

    project.provide('e2e', {
      appUrl,
      gatehouseUrl: gatehouse.url,
      appKey: keys.app!,
      machineKey: keys.machine!,
      userEmail,
      userPassword,
      exampleDir,
      builtWithKey: !skipBuild,
    });
  } catch (e) {
    await cleanup();
    throw e;
  }
  return cleanup;
}

export { keyFor };
