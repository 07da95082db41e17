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

function collect(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filter = process.argv[2];
let files = ['core', 'electron', 'e2e'].flatMap((d) => collect(join(root, 'dist', d)));
if (filter) files = files.filter((f) => relative(root, f).includes(filter));
files.sort();
if (files.length === 0) {
  console.error('✗ No test files found in dist/ — did the build run?');
  process.exit(1);
}

// Real libvirtd for the unattended-boot proof (issue #6), when we are root and it is set up.
let libvirt;
const daemons = join(root, 'scripts', 'libvirt', 'daemons.mjs');
if (peersReady && existsSync(daemons) && process.getuid?.() === 0 && !filter?.includes('unit')) {
  libvirt = await import(daemons);
  await libvirt.startLibvirt();
}

console.log(`• Running ${files.length} test files…`);
let status;
try {
  status = sh(process.execPath, [
    '--test',
    '--test-concurrency=2',
    '--test-timeout=600000',
    ...files.map((f) => relative(root, f)),
  ]);
} finally {
  if (libvirt) await libvirt.stopLibvirt();
}
console.log(`• npm test finished in ${((Date.now() - started) / 1000).toFixed(0)} s (exit ${status})`);
process.exit(status);
