#!/usr/bin/env node
// The `image-vault` command: a thin launcher for the compiled CLI in dist/.
// Bulk jobs keep reads (page cache) and O_DIRECT writes in flight together: give libuv's
// file-I/O thread pool room for both (it reads this once, on first use).
process.env.UV_THREADPOOL_SIZE ??= '8';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const at = (rel) => fileURLToPath(new URL(rel, import.meta.url));
const mtime = (path) => (existsSync(path) ? statSync(path).mtimeMs : undefined);
const plain = at('../dist/core/cli/main.js');
if (!existsSync(plain)) {
  console.error(
    'image-vault is not built yet: run `npm test` or `npm start` once (or `npm run build`).'
  );
  process.exit(1);
}
// The bundle (scripts/lib/bundle.mjs) starts faster; a bare `tsc -b` after the last full
// build leaves it stale, and then the modules it was made from are used instead.
const bundle = at('../dist/core/cli/bundle/main.js');
const built = mtime(at('../dist/core.tsbuildinfo'));
const fresh = mtime(bundle) !== undefined && built !== undefined && mtime(bundle) >= built;
const { main } = await import(fresh ? bundle : plain);
process.exitCode = await main(process.argv.slice(2));
