// The verified-token cache is keyed on the SHA-256 of the whole credential, so the caches never
// hold a credential itself. On Node (and Bun, Deno) the synchronous hash of node:crypto is
// reached through process.getBuiltinModule — a call, not an import, so the module stays free
// of node: imports and loads on Edge runtimes, where Web Crypto's digest is used instead.

type NodeCrypto = { createHash(alg: string): { update(s: string): { digest(enc: string): string } } };

const nodeCrypto: NodeCrypto | undefined = (() => {
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    return proc?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
  } catch {
    return undefined;
  }
})();

const encoder = new TextEncoder();

/** The SHA-256 of s, base64-encoded: a string (sync on Node) or a promise of one. */
export function sha256Key(s: string): string | Promise<string> {
  if (nodeCrypto) return nodeCrypto.createHash('sha256').update(s).digest('base64');
  return crypto.subtle.digest('SHA-256', encoder.encode(s)).then((d) => {
    let bin = '';
    for (const b of new Uint8Array(d)) bin += String.fromCharCode(b);
    return btoa(bin);
  });
}
