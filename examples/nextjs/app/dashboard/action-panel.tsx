'use client';
// Calls a Server Action; works after the access token expired, since the middleware renews the
// session on same-origin Server Action POSTs.
import { useState, useTransition } from 'react';
import { whoAmI } from './actions';

export function ActionPanel() {
  const [result, setResult] = useState('');
  const [pending, start] = useTransition();
  return (
    <section style={{ margin: '1.5rem 0' }}>
      <button type="button" disabled={pending} onClick={() => start(async () => setResult(JSON.stringify(await whoAmI())))}>
        Run the Server Action
      </button>
      <pre data-testid="action-result">{result}</pre>
    </section>
  );
}
