// Shared set-up steps for `npm start` and `npm test`: install dependencies when stale,
// install Debian peer packages when missing, build what is stale. Plain Node, no deps.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

export function must(cmd, args, opts = {}) {
  const status = sh(cmd, args, opts);
  if (status !== 0) {
    console.error(`\n✗ ${cmd} ${args.join(' ')} failed (exit ${status})`);
    process.exit(status);
  }
}

export function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

/** `npm ci` when node_modules is missing or older than the lock file. */
export function ensureDependencies() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(marker) && mtime(marker) >= mtime(join(root, 'package-lock.json'))) return;
  console.log('• Installing npm dependencies (npm ci)…');
  // The electron package only provides types here: its binary cannot be downloaded on
  // build/test machines (docs/DESIGN.md constraint 1).
  must('npm', ['ci', '--no-audit', '--no-fund'], {
    env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
  });
}

/** Debian packages the peer suites need, keyed by the command that proves they exist. */
export const PEER_PACKAGES = {
  'qemu-img': 'qemu-utils',
  'qemu-io': 'qemu-utils',
  cryptsetup: 'cryptsetup-bin',
  chromium: 'chromium',
  'virt-xml-validate': 'libvirt-clients',
  xmllint: 'libxml2-utils',
  age: 'age',
  'age-keygen': 'age',
  'ssh-keygen': 'openssh-client',
};

/**
 * Makes sure the peer tools exist: installs the Debian packages when running as root with
 * apt-get, otherwise fails naming them (unless the explicit laptop opt-out is set).
 */
export function ensurePeers(commands = Object.keys(PEER_PACKAGES)) {
  const missing = commands.filter((c) => !hasCommand(c));
  if (missing.length === 0) return true;
  const pkgs = [...new Set(missing.map((c) => PEER_PACKAGES[c]))];
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && hasCommand('apt-get')) {
    console.log(`• Installing Debian packages: ${pkgs.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    must('apt-get', ['update', '-qq'], { env });
    must('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { env });
    return true;
  }
  if (process.env.IMAGE_VAULT_SKIP_PEERS === '1' && !process.env.CI) {
    console.warn(`! Peer suites skipped (IMAGE_VAULT_SKIP_PEERS=1); missing: ${pkgs.join(' ')}`);
    return false;
  }
  console.error(
    `✗ Missing peer tools: ${missing.join(', ')}.\n  Install: sudo apt-get install ${pkgs.join(' ')}\n` +
      '  (or set IMAGE_VAULT_SKIP_PEERS=1 to skip the peer suites on a laptop; never in CI)'
  );
  process.exit(2);
}

/** Type-checks and compiles core/electron/e2e, and bundles the renderer. */
export function build() {
  must(process.execPath, [join(root, 'scripts', 'build.mjs')]);
}
