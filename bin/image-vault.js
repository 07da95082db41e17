#!/usr/bin/env node
// The `image-vault` command: a thin launcher for the compiled CLI in dist/.
// Bulk jobs keep reads (page cache) and O_DIRECT writes in flight together: give libuv's
// file-I/O thread pool room for both (it reads this once, on first use).
process.env.UV_THREADPOOL_SIZE ??= '8';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/core/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  console.error(
    'image-vault is not built yet: run `npm test` or `npm start` once (or `npm run build`).'
  );
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
