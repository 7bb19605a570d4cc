// The panel's renderer: React + zustand + recharts, built into dist/renderer (served by `sockpit panel`, or
// loaded from disk by Electron: hence relative asset paths). `vitest run -c renderer/vite.config.mts` runs its tests.
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    // `vite` in development: the API through a running `sockpit panel`
    proxy: { '/api': { target: 'http://127.0.0.1:7788', changeOrigin: false } },
  },
  test: {
    root: here,
    include: ['src/**/*.test.{ts,tsx}'],
    environment: 'node',
  },
});
