// Bundles the compiled CLI and crypto worker (dist/core/**.js) into one file each, so a
// command starts without resolving and reading ~100 ES modules (measured: most of the CLI's
// startup time, and a worker's). The unbundled dist/ stays what tests import and Electron
// runs; bin/image-vault.js and the crypto pool prefer the bundles when they exist.
import { dirname, join, relative } from 'node:path';
import { readFile, rename } from 'node:fs/promises';
import { build } from 'esbuild';

/**
 * Keeps `import.meta.url` meaning "where this module's own .js file is" inside a bundle:
 * each module's `import.meta.url` becomes its dist path resolved against the bundle's URL,
 * so relative lookups (the worker script, the renderer folder) find the same files.
 */
function moduleUrlPlugin(outFile) {
  return {
    name: 'module-url',
    setup(b) {
      b.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const rel = relative(dirname(outFile), args.path).split('\\').join('/');
        const url = `new URL(${JSON.stringify(rel)}, import.meta.url).href`;
        return { contents: text.replaceAll('import.meta.url', url), loader: 'js' };
      });
    },
  };
}

/** Writes `out` from `entry` (both under dist/): ESM for Node, dependencies included. */
async function bundleOne(entry, out) {
  // Written beside and renamed into place: a command started meanwhile never loads half a file.
  const tmp = `${out}.${process.pid}.tmp`;
  await build({
    entryPoints: [entry],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
    legalComments: 'none',
    // CommonJS dependencies inside an ES bundle still call require() for Node built-ins.
    banner: {
      js: "import { createRequire as __ivRequire } from 'node:module'; const require = __ivRequire(import.meta.url);",
    },
    plugins: [moduleUrlPlugin(out)],
  });
  await rename(tmp, out);
}

/** Bundles the CLI and the crypto worker next to their unbundled entry points. */
export async function bundleCli(root) {
  const dist = join(root, 'dist', 'core');
  await bundleOne(join(dist, 'cli', 'main.js'), join(dist, 'cli', 'main.bundle.js'));
  await bundleOne(
    join(dist, 'worker', 'crypto-worker.js'),
    join(dist, 'worker', 'crypto-worker.bundle.js')
  );
}
