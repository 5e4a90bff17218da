// A fake GitHub (OAuth token endpoint, /user, /user/emails) on loopback, enough for Gatehouse's
// GitHub provider: point GATEHOUSE_GITHUB_URL and GATEHOUSE_GITHUB_API_URL at it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeGitHub {
  url: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

export async function startFakeGitHub(): Promise<FakeGitHub> {
  const clientId = 'gh-client-sdk';
  const clientSecret = 'gh-secret-sdk';
  const server = http.createServer((req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const code = form.get('code') ?? '';
        if (!code.startsWith('good-')) return json(200, { error: 'bad_verification_code', error_description: 'bad code' });
        json(200, { access_token: 'gho_' + code, token_type: 'bearer', scope: 'read:user,user:email' });
      });
      return;
    }
    const auth = req.headers.authorization ?? '';
    if (!/^(bearer|token) gho_good-/i.test(auth)) return json(401, { message: 'Bad credentials' });
    if (req.method === 'GET' && url.pathname === '/user') {
      return json(200, { id: 4242, login: 'octocat', name: 'Octo Cat', avatar_url: null, type: 'User', email: null });
    }
    if (req.method === 'GET' && url.pathname === '/user/emails') {
      return json(200, [{ email: 'octocat@example.com', primary: true, verified: true, visibility: 'public' }]);
    }
    json(404, { message: 'Not Found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    clientId,
    clientSecret,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
