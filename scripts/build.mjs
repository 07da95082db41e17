// Builds everything: TypeScript project references (core, electron, e2e) into dist/, the
// CLI, crypto-worker and preload bundles (scripts/lib/bundle.mjs), the renderer type-check and its
// Vite bundle into dist/renderer.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bundleCli, bundlePreload, PRELOAD_OUT } from './lib/bundle.mjs';
import { writeCliDocs } from './lib/cli-docs.mjs';
import { must, root } from './lib/setup.mjs';

const bin = (name) => join(root, 'node_modules', '.bin', name);
console.log('• Building (tsc -b, CLI bundle, vite build)…');
must(bin('tsc'), ['-b']);
await bundleCli(root);
// The desktop app's bridge: type-checked against the contract, then bundled (a sandboxed
// preload must be one CommonJS file). Without it the window has no `window.vault`.
must(bin('tsc'), ['-p', join('electron', 'preload'), '--noEmit']);
await bundlePreload(root);
if (!existsSync(join(root, PRELOAD_OUT))) {
  console.error(`✗ ${PRELOAD_OUT} was not written: the desktop app would have no bridge`);
  process.exit(1);
}
// The man page and bash/zsh completions, from the CLI's own help texts.
await writeCliDocs(root);
if (existsSync(join(root, 'renderer', 'vite.config.ts'))) {
  must(bin('tsc'), ['-p', 'renderer', '--noEmit']);
  must(bin('tsc'), ['-p', 'build', '--noEmit']);
  must(bin('vite'), ['build', '--config', 'renderer/vite.config.ts', '--logLevel', 'warn']);
}
