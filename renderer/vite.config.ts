// Vite build of the renderer: root renderer/, output dist/renderer, relative base so the same
// build works under Electron's app:// protocol and under the loopback server.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { CONTRACT_IMPORT, contractNamesSource } from '../scripts/lib/contract-names.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * The page needs only the contract's operation names: imports of core/api/contract.js get the
 * module generated from the compiled table (scripts/lib/contract-names.mjs), not zod.
 */
function contractNames(): Plugin {
  const id = '\0contract-names';
  return {
    name: 'contract-names',
    enforce: 'pre',
    resolveId: (source) => (CONTRACT_IMPORT.test(source) ? id : null),
    load: (loaded) => (loaded === id ? contractNamesSource(root) : null),
  };
}

export default defineConfig({
  root: here,
  base: './',
  plugins: [contractNames(), react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2022',
    // Keep icons as files (served under 'self'); no inline data beyond tiny assets.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: { fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
});
