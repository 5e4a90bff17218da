// The example MCP servers of examples/ (README: "Protect your API or MCP server"), started through their own `run` scripts
// exactly as a user would: `run --addr 127.0.0.1:0 --issuer URL`, ready once the script prints
// "listening on http://HOST:PORT/mcp".
import { spawn } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './gatehouse.mjs';

/** Starts examples/<name>/run against issuer; returns { url, resource, logs, close }. */
export async function startExample(name, issuer) {
  const run = path.join(repoRoot, 'examples', name, 'run');
  const proc = spawn(run, ['--addr', '127.0.0.1:0', '--issuer', issuer], {
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: run execs the server, which may start children
  });
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  const url = await new Promise((resolve, reject) => {
    // The first start may install the example's dependencies (test.sh does that beforehand).
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 300s:\n${err}`)), 300_000);
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /^listening on (http:\/\/\S+\/mcp)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before listening:\n${err}`));
    });
  });
  return {
    url,
    resource: url,
    logs: () => err,
    async close() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      const signal = (s) => {
        try {
          process.kill(-proc.pid, s); // the whole group: run and whatever the server started
        } catch {
          proc.kill(s); // the group is gone already
        }
      };
      signal('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
      if (proc.exitCode === null && proc.signalCode === null) signal('SIGKILL');
    },
  };
}
