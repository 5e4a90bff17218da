import type { ReactNode } from 'react';

export const metadata = { title: 'Gatehouse + Next.js example' };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 720, margin: '2rem auto', padding: '0 1rem' }}>
        <nav style={{ display: 'flex', gap: '1rem', marginBottom: '2rem' }}>
          <a href="/">Home</a>
          <a href="/dashboard">Dashboard</a>
          <a href="/login">Sign in</a>
        </nav>
        {children}
      </body>
    </html>
  );
}
