// `npm test`: installs what is missing (npm deps, Debian peer tools when root), builds, then
// runs the unit, interop and e2e suites in one `node --test` run. Peer suites never skip
// silently: missing peers fail unless IMAGE_VAULT_SKIP_PEERS=1 is set outside CI.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build, ensureDependencies, ensurePeers, root, sh } from './lib/setup.mjs';

const started = Date.now();
ensureDependencies();
const peersReady = ensurePeers();
build();

function collect(dir, out = [], suffix = '.test.js') {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out, suffix);
    else if (name.endsWith(suffix)) out.push(p);
  }
  return out;
}

const filter = process.argv[2];
// Compiled suites (core, electron, e2e) run from dist/; the renderer's and build/'s few unit
// tests run from source through tsx (the renderer is bundled by Vite, not compiled by tsc -b);
// scripts/ holds plain .mjs tests (the lint-zone probes).
let files = [
  ...['core', 'electron', 'e2e'].flatMap((d) => collect(join(root, 'dist', d))),
  ...collect(join(root, 'renderer', 'src'), [], '.test.ts'),
  ...collect(join(root, 'build'), [], '.test.ts'),
  ...collect(join(root, 'scripts'), [], '.test.mjs'),
];
if (filter) files = files.filter((f) => relative(root, f).includes(filter));
files.sort();
if (files.length === 0) {
  console.error('✗ No test files found in dist/ — did the build run?');
  process.exit(1);
}

// Real libvirtd for the unattended-boot proof (issue #6), when we are root and it is set up.
let libvirt;
let libvirtHandle;
const daemons = join(root, 'scripts', 'libvirt', 'daemons.mjs');
if (peersReady && existsSync(daemons) && process.getuid?.() === 0 && !filter?.includes('unit')) {
  libvirt = await import(daemons);
  libvirtHandle = await libvirt.startLibvirt();
}

// Lint and format are part of the bar; run before the suites so the runner's summary stays last.
let lint = 0;
if (!filter) {
  console.log('• Lint (eslint, prettier --check)…');
  const bin = (name) => join(root, 'node_modules', '.bin', name);
  lint = sh(bin('eslint'), ['.']) || sh(bin('prettier'), ['--check', '--log-level', 'warn', '.']);
  if (lint !== 0) console.error('✗ lint or format check failed (npm run format fixes formatting)');
}

console.log(`• Running ${files.length} test files…`);
let status;
try {
  status = sh(process.execPath, [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-timeout=600000',
    ...files.map((f) => relative(root, f)),
  ]);
} finally {
  if (libvirt) await libvirt.stopLibvirt(libvirtHandle);
}
console.log(
  `• npm test finished in ${((Date.now() - started) / 1000).toFixed(0)} s (exit ${status})`
);
process.exit(status || lint);
