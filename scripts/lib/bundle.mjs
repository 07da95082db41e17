// Bundles the compiled CLI and crypto worker (dist/core/**.js), so a command starts without
// resolving and reading ~100 ES modules (measured: most of the CLI's startup time, and a
// worker's). The unbundled dist/ stays what tests import and Electron runs; bin/image-vault.js
// and the crypto pool prefer the bundles when they are fresh.
import { dirname, join, relative } from 'node:path';
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { build } from 'esbuild';
import { CONTRACT_IMPORT, contractNamesSource } from './contract-names.mjs';

/**
 * Keeps `import.meta.url` meaning "where this module's own .js file is" inside a bundle:
 * each module's `import.meta.url` becomes its dist path resolved against the URL of the bundle
 * file it lands in (any file in `outDir`), so relative lookups (the worker script, the
 * renderer folder) find the same files.
 */
function moduleUrlPlugin(outDir) {
  return {
    name: 'module-url',
    setup(b) {
      b.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const rel = relative(outDir, args.path).split('\\').join('/');
        const url = `new URL(${JSON.stringify(rel)}, import.meta.url).href`;
        return { contents: text.replaceAll('import.meta.url', url), loader: 'js' };
      });
    },
  };
}

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  legalComments: 'none',
  // koffi loads its prebuilt native binary from its own package: never inlined.
  external: ['koffi'],
  // CommonJS dependencies inside an ES bundle still call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __ivRequire } from 'node:module'; const require = __ivRequire(import.meta.url);",
  },
};

/** Writes the single file `out` from `entry` (both under dist/), dependencies included. */
async function bundleOne(entry, out) {
  // Written beside and renamed into place: a command started meanwhile never loads half a file.
  const tmp = `${out}.${process.pid}.tmp`;
  await build({
    ...common,
    entryPoints: [entry],
    outfile: tmp,
    plugins: [moduleUrlPlugin(dirname(out))],
  });
  await rename(tmp, out);
}

/**
 * Writes `outDir/main.js` from `entry` split at its dynamic imports (one chunk per command,
 * shared code in common chunks), so a command parses only what it runs: zod alone is 60 % of
 * the whole CLI and only `serve` and resumed jobs need it (measured: ~30 ms less start-up).
 * Chunks have content-hashed names and move in first, `main.js` last, so a command started
 * meanwhile loads a consistent set. A command loads its chunks lazily (a resumed job reads
 * its journal seconds in), so chunks this build does not use stay for a day before they
 * are removed: a running command, or a second build at the same time, still finds its own.
 */
async function bundleSplit(entry, outDir) {
  const tmp = `${outDir}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await build({
    ...common,
    entryPoints: { main: entry },
    outdir: tmp,
    splitting: true,
    chunkNames: 'chunk-[hash]',
    plugins: [moduleUrlPlugin(outDir)],
  });
  await mkdir(outDir, { recursive: true });
  const files = (await readdir(tmp)).sort((a, b) => (a === 'main.js') - (b === 'main.js'));
  for (const f of files) await rename(join(tmp, f), join(outDir, f));
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const f of await readdir(outDir)) {
    const path = join(outDir, f);
    if (!files.includes(f) && (await stat(path)).mtimeMs < dayAgo) await rm(path, { force: true });
  }
  await rm(tmp, { recursive: true, force: true });
}

/** Where the build writes the Electron preload (electron/main/paths.ts loads it from there). */
export const PRELOAD_OUT = join('dist', 'electron', 'preload', 'index.cjs');

/** Resolves imports of core/api/contract.js to the generated names module (contract-names.mjs). */
function contractNamesPlugin(root) {
  return {
    name: 'contract-names',
    setup(b) {
      b.onResolve({ filter: CONTRACT_IMPORT }, () => ({ path: 'contract', namespace: 'names' }));
      b.onLoad({ filter: /.*/, namespace: 'names' }, async () => ({
        contents: await contractNamesSource(root),
        loader: 'js',
      }));
    },
  };
}

/**
 * Bundles the preload (electron/preload/index.ts) with the contract it derives from into the
 * one self-contained CommonJS file a sandboxed preload must be: it may require `electron` and
 * nothing else, so everything else is inlined.
 */
export async function bundlePreload(root) {
  const out = join(root, PRELOAD_OUT);
  await mkdir(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  await build({
    entryPoints: [join(root, 'electron', 'preload', 'index.ts')],
    outfile: tmp,
    bundle: true,
    format: 'cjs',
    platform: 'browser',
    target: 'es2022',
    external: ['electron'],
    logLevel: 'warning',
    legalComments: 'none',
    plugins: [contractNamesPlugin(root)],
  });
  await rename(tmp, out);
}

/** Bundles the CLI (split, see above) and the crypto and KDF workers (one file each) beside their sources. */
export async function bundleCli(root) {
  const dist = join(root, 'dist', 'core');
  await rm(join(dist, 'cli', 'main.bundle.js'), { force: true }); // the older single-file form
  await bundleSplit(join(dist, 'cli', 'main.js'), join(dist, 'cli', 'bundle'));
  for (const worker of ['crypto-worker', 'kdf-worker']) {
    await bundleOne(
      join(dist, 'crypto', `${worker}.js`),
      join(dist, 'crypto', `${worker}.bundle.js`)
    );
  }
}
