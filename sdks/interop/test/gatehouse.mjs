// Real Gatehouse servers for the interop tests: the binary (built once by test.sh, or here),
// a fresh data directory each, a free loopback port, and the CLI against the same database.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');

let built;
/** The gatehouse binary: $GATEHOUSE_BIN when it exists, else one go build per test process. */
export async function gatehouseBin() {
  const preset = process.env.GATEHOUSE_BIN;
  if (preset && existsSync(preset)) return preset;
  built ??= (async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-interop-bin-'));
    const bin = path.join(dir, 'gatehouse');
    await run('go', ['build', '-o', bin, './cmd/gatehouse'], { cwd: repoRoot, maxBuffer: 16 << 20 });
    return bin;
  })();
  return built;
}

/**
 * Starts `gatehouse serve` with an admin API key (scope admin) made through the CLI first.
 * Returns { url, env, cli, admin(method, path, body), restart, stop, logs }.
 */
export async function startGatehouse(extraEnv = {}) {
  const bin = await gatehouseBin();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-interop-'));
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GATEHOUSE_DATA_DIR: dataDir,
    GATEHOUSE_ADDR: '127.0.0.1:0',
    GATEHOUSE_RATE_LIMITS: 'off',
    GATEHOUSE_LOG_LEVEL: 'debug',
    GATEHOUSE_HASH_MAX_WAIT: '10s',
    ...extraEnv,
  };
  const cli = async (args) => (await run(bin, args, { env, maxBuffer: 16 << 20 })).stdout;
  await cli(['migrate']);
  await cli(['users', 'create', '--email', 'admin@example.com', '--password', 'admin password 123', '--role', 'admin']);
  const adminKey = lastLine(await cli(['keys', 'create', '--email', 'admin@example.com', '--scope', 'admin']));

  let out = '';
  let proc;
  const serve = () => new Promise((resolve, reject) => {
    proc = spawn(bin, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => reject(new Error(`gatehouse did not start in 20s:\n${out}`)), 20000);
    let stdout = '';
    proc.stdout.on('data', (d) => {
      stdout += d;
      const m = /gatehouse listening on (http:\/\/\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gatehouse exited with ${code} before listening:\n${out}`));
    });
  });
  const url = await serve();
  const kill = async () => {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  };

  /** Calls the admin API with the admin key; returns { status, body }. */
  const admin = async (method, p, body) => {
    const res = await fetch(url + p, {
      method,
      headers: { 'X-API-Key': adminKey, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };

  return {
    url,
    env,
    cli,
    admin,
    logs: () => out,
    /** Stops the server and starts it again on the same address and data (e.g. after a CLI change). */
    async restart() {
      await kill();
      env.GATEHOUSE_ADDR = new URL(url).host;
      const again = await serve();
      if (again !== url) throw new Error(`gatehouse came back at ${again}, not ${url}`);
    },
    async stop() {
      await kill();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Registers a user through the API; returns { id, email, password }. */
export async function registerUser(gatehouseURL, label) {
  const email = `${label}-${process.pid}-${Date.now()}@example.com`;
  const password = 'correct horse battery staple';
  const res = await fetch(gatehouseURL + '/api/v1/auth/register', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password, name: 'Interop User' }),
  });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
  const body = await res.json();
  return { id: body.user.id, email, password };
}

export function lastLine(stdout) {
  const lines = stdout.trim().split('\n');
  return lines[lines.length - 1].trim();
}
