// Builds and runs real Gatehouse servers for the tests (unit and end to end).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');

/** Builds the gatehouse binary (or uses $GATEHOUSE_BIN when it is set and exists). */
export async function buildGatehouse(outDir: string): Promise<string> {
  const preset = process.env.GATEHOUSE_BIN;
  if (preset && existsSync(preset)) return preset;
  const bin = path.join(outDir, 'gatehouse');
  await run('go', ['build', '-o', bin, './cmd/gatehouse'], { cwd: repoRoot, maxBuffer: 16 << 20 });
  return bin;
}

export interface RunningGatehouse {
  url: string;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  proc: ChildProcess;
  stop(): Promise<void>;
  /** Runs a CLI command against the same data directory; returns stdout. */
  cli(args: string[]): Promise<string>;
  logs(): string;
}

/** Starts `gatehouse serve` on a free loopback port and waits for its "listening" line. */
export async function startGatehouse(bin: string, extraEnv: Record<string, string> = {}, setup?: (cli: (args: string[]) => Promise<string>) => Promise<void>): Promise<RunningGatehouse> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-sdk-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GATEHOUSE_DATA_DIR: dataDir,
    GATEHOUSE_ADDR: '127.0.0.1:0',
    GATEHOUSE_RATE_LIMITS: 'off',
    GATEHOUSE_LOG_LEVEL: 'warn',
    // On a busy test machine, wait for a password-hashing slot instead of answering 503 server_busy.
    GATEHOUSE_HASH_MAX_WAIT: '10s',
    ...extraEnv,
  };
  const cli = async (args: string[]) => (await run(bin, args, { env, maxBuffer: 16 << 20 })).stdout;
  // Only serve, migrate and init create a database; the set-up's users and keys need one first.
  if (setup) {
    await cli(['migrate']);
    await setup(cli);
  }
  const proc = spawn(bin, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gatehouse did not start in 20s:\n${out}\n${err}`)), 20000);
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /gatehouse listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gatehouse exited with ${code} before listening:\n${out}\n${err}`));
    });
  });
  return {
    url,
    dataDir,
    env,
    proc,
    cli,
    logs: () => out + err,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        // unref: a pending timer must not keep the test process alive after the server exited.
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The API key printed alone on the last stdout line of `gatehouse keys create`. */
export function lastLine(stdout: string): string {
  const lines = stdout.trim().split('\n');
  return lines[lines.length - 1]!.trim();
}

/** Creates a user (CLI) and an API key with the given scopes; returns the key. */
export async function userWithKey(cli: (args: string[]) => Promise<string>, email: string, role: 'user' | 'admin', scopes: string[]): Promise<string> {
  const args = ['users', 'create', '--email', email, '--password', 'correct horse battery staple'];
  if (role === 'admin') args.push('--role', 'admin');
  await cli(args);
  return keyFor(cli, email, scopes);
}

export async function keyFor(cli: (args: string[]) => Promise<string>, email: string, scopes: string[]): Promise<string> {
  const args = ['keys', 'create', '--email', email];
  for (const s of scopes) args.push('--scope', s);
  const key = lastLine(await cli(args));
  if (!key.startsWith('ak_')) throw new Error(`unexpected key output: ${key}`);
  return key;
}
