import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The admin console: built into dist/console, which the api serves at /console. The api fills
 * in a fresh CSP nonce wherever PARLEY_CSP_NONCE stands in index.html (Vite puts it on the tags
 * it writes and on `<meta property="csp-nonce">`, which the console gives Mantine).
 */
export default defineConfig({
  root: here('.'),
  base: '/console/',
  // JSX with React's automatic runtime, by Vite's own transform (no React plugin: the console
  // needs no Fast Refresh to be built).
  oxc: { jsx: { runtime: 'automatic' } },
  html: { cspNonce: 'PARLEY_CSP_NONCE' },
  build: {
    outDir: here('../../dist/console'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 600,
    reportCompressedSize: true,
    rolldownOptions: {
      onwarn(warning, warn) {
        // Mantine marks its modules "use client" (for React Server Components); meaningless here.
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  server: {
    // `npx vite apps/console` against `npm start` on :3000.
    proxy: { '/v1': 'http://localhost:3000' },
  },
});
