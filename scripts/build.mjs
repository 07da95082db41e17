// Builds everything: TypeScript project references (core, electron, e2e) into dist/, the
// CLI and crypto-worker bundles (scripts/lib/bundle.mjs), the renderer type-check and its
// Vite bundle into dist/renderer.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bundleCli } from './lib/bundle.mjs';
import { must, root } from './lib/setup.mjs';

const bin = (name) => join(root, 'node_modules', '.bin', name);
console.log('• Building (tsc -b, CLI bundle, vite build)…');
must(bin('tsc'), ['-b']);
await bundleCli(root);
if (existsSync(join(root, 'renderer', 'vite.config.ts'))) {
  must(bin('tsc'), ['-p', 'renderer', '--noEmit']);
  must(bin('tsc'), ['-p', 'build', '--noEmit']);
  must(bin('vite'), ['build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn']);
}
