// Builds everything: TypeScript project references (core, electron, e2e) into dist/, the
// renderer type-check and its Vite bundle into dist/renderer.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { must, root } from './lib/setup.mjs';

const bin = (name) => join(root, 'node_modules', '.bin', name);
console.log('• Building (tsc -b, vite build)…');
must(bin('tsc'), ['-b']);
if (existsSync(join(root, 'renderer', 'vite.config.ts'))) {
  must(bin('tsc'), ['-p', 'renderer', '--noEmit']);
  must(bin('tsc'), ['-p', 'build', '--noEmit']);
  must(bin('vite'), ['build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn']);
}
