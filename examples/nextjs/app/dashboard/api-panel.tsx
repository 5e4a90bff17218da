'use client';
// Client code calls the protected API with the session cookie; it never sees a token or the API key.
import { useState } from 'react';

export function ApiPanel() {
  const [result, setResult] = useState<string>('');
  async function call() {
    let res = await fetch('/api/protected');
    if (res.status === 401) {
      // The access token expired between page loads: renew once, then retry.
      const renewed = await fetch('/api/auth/refresh', { method: 'POST' });
      if (renewed.ok) res = await fetch('/api/protected');
    }
    setResult(`${res.status} ${await res.text()}`);
  }
  return (
    <section style={{ margin: '1.5rem 0' }}>
      <button type="button" onClick={call}>
        Call /api/protected
      </button>
      <pre data-testid="api-result" style={{ whiteSpace: 'pre-wrap' }}>
        {result}
      </pre>
    </section>
  );
}
