import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  poweredByHeader: false,
  // The SDK's end-to-end tests also build this app with Cache Components on (Next 16's
  // `cacheComponents: true`, the default of new apps): EXAMPLE_CACHE_COMPONENTS=1.
  ...(process.env.EXAMPLE_CACHE_COMPONENTS === '1' ? ({ cacheComponents: true } as NextConfig) : {}),
};

export default nextConfig;
