// Test setup for the libvirt proof (issue #6): as root on Debian 12 without systemd, install
// libvirt + QEMU when missing, create the libvirt-qemu user/group, start virtlogd and libvirtd
// as daemons, wait for qemu:///system to answer, and later stop exactly those daemons by PID.
//
//   import { startLibvirt, stopLibvirt } from './libvirt/daemons.mjs';
//   const handle = await startLibvirt();   // { started, pids: { virtlogd, libvirtd }, uri }
//   ...
//   await stopLibvirt(handle);              // kills only what startLibvirt started
//
// CLI: node scripts/libvirt/daemons.mjs install -> packages + libvirt-qemu user only
//      node scripts/libvirt/daemons.mjs start   -> prints the handle as JSON
//      node scripts/libvirt/daemons.mjs stop PID [PID...]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** Debian packages the libvirt tests need, installed with --no-install-recommends. */
export const LIBVIRT_PACKAGES = [
  'libvirt-daemon',
  'libvirt-daemon-driver-qemu',
  'libvirt-clients',
  'qemu-system-x86',
  'libxml2-utils',
];

const URI = 'qemu:///system';
const PIDFILES = { virtlogd: '/run/virtlogd.pid', libvirtd: '/run/libvirtd.pid' };

/** Handles started by this process, so stopLibvirt() without arguments knows what to stop. */
const ours = [];

function log(msg) {
  process.stderr.write(`[libvirt-setup] ${msg}\n`);
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function ok(cmd, args) {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

function installed(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

/** Installs whichever of LIBVIRT_PACKAGES are missing (root only). Returns what it installed. */
export function installLibvirtPackages() {
  const missing = LIBVIRT_PACKAGES.filter((p) => !installed(p));
  if (missing.length === 0) return [];
  if (!isRoot())
    throw new Error(`missing Debian packages (need root to install): ${missing.join(' ')}`);
  log(`installing ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env,
    }).status === 0;
  if (!install()) {
    execFileSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (!install()) throw new Error(`apt-get install failed for: ${missing.join(' ')}`);
  }
  return missing;
}

/** Creates the libvirt-qemu group and system user when missing (Debian's names). */
export function ensureLibvirtQemuUser() {
  if (!ok('getent', ['group', 'libvirt-qemu'])) {
    execFileSync('groupadd', ['--system', 'libvirt-qemu']);
  }
  if (!ok('getent', ['passwd', 'libvirt-qemu'])) {
    const extra = ok('getent', ['group', 'kvm']) ? ['--groups', 'kvm'] : [];
    execFileSync('useradd', [
      '--system',
      '--gid',
      'libvirt-qemu',
      ...extra,
      '--no-create-home',
      '--home-dir',
      '/var/lib/libvirt',
      '--shell',
      '/usr/sbin/nologin',
      'libvirt-qemu',
    ]);
  }
}

function virshAnswers(uri = URI) {
  return ok('virsh', ['-c', uri, 'version']);
}

function readPid(file) {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid) {
  return existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
}

function commOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** The PID of a running daemon according to its pidfile, or null. */
function runningPid(name) {
  const pid = readPid(PIDFILES[name]);
  return pid !== null && alive(pid) && commOf(pid) === name ? pid : null;
}

async function startDaemon(name) {
  const existing = runningPid(name);
  if (existing !== null) return { pid: existing, started: false };
  const r = spawnSync(name, ['-d'], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${name} -d failed (${r.status}): ${r.stderr}`);
  for (let i = 0; i < 100; i++) {
    const pid = runningPid(name);
    if (pid !== null) return { pid, started: true };
    await sleep(100);
  }
  throw new Error(`${name} started but wrote no live pid to ${PIDFILES[name]}`);
}

/**
 * Makes qemu:///system answer. When it already does, starts nothing ({ started: false }).
 * Otherwise (root only) installs packages, creates libvirt-qemu, makes /var/log/libvirt and
 * /var/run/libvirt, starts `virtlogd -d` and `libvirtd -d`, and waits up to `timeoutMs`.
 */
export async function startLibvirt({ timeoutMs = 30_000 } = {}) {
  const handle = { uri: URI, started: false, pids: {} };
  if (existsSync('/usr/bin/virsh') && virshAnswers()) return handle;
  if (!isRoot()) throw new Error('starting libvirtd for the tests needs root');
  installLibvirtPackages();
  ensureLibvirtQemuUser();
  mkdirSync('/var/log/libvirt', { recursive: true });
  mkdirSync('/var/run/libvirt', { recursive: true });
  for (const name of ['virtlogd', 'libvirtd']) {
    const d = await startDaemon(name);
    if (d.started) {
      handle.pids[name] = d.pid;
      handle.started = true;
    }
  }
  ours.push(handle);
  const deadline = Date.now() + timeoutMs;
  while (!virshAnswers()) {
    if (Date.now() > deadline) {
      await stopLibvirt(handle);
      throw new Error(`libvirtd did not answer on ${URI} within ${timeoutMs} ms`);
    }
    await sleep(200);
  }
  log(`libvirt up: ${JSON.stringify(handle.pids)}`);
  return handle;
}

async function stopPid(pid, name) {
  if (!alive(pid) || commOf(pid) !== name) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100; i++) {
    if (!alive(pid)) return;
    await sleep(100);
  }
  process.kill(pid, 'SIGKILL');
}

/**
 * Stops the daemons a startLibvirt() call started, by PID (libvirtd first, then virtlogd).
 * Without an argument, stops everything this process started. Daemons that were already
 * running before are left alone.
 */
export async function stopLibvirt(handle) {
  const handles = handle === undefined ? ours.splice(0) : [handle];
  for (const h of handles) {
    const i = ours.indexOf(h);
    if (i >= 0) ours.splice(i, 1);
    if (h.pids.libvirtd !== undefined) await stopPid(h.pids.libvirtd, 'libvirtd');
    if (h.pids.virtlogd !== undefined) await stopPid(h.pids.virtlogd, 'virtlogd');
    h.pids = {};
    h.started = false;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [cmd, ...rest] = process.argv.slice(2);
  if (cmd === 'install') {
    installLibvirtPackages();
    ensureLibvirtQemuUser();
  } else if (cmd === 'start') {
    const h = await startLibvirt();
    process.stdout.write(`${JSON.stringify(h)}\n`);
  } else if (cmd === 'stop') {
    for (const arg of rest) {
      const pid = Number.parseInt(arg, 10);
      const name = commOf(pid);
      if (name === 'libvirtd' || name === 'virtlogd') await stopPid(pid, name);
      else log(`pid ${arg} is not libvirtd/virtlogd; left alone`);
    }
  } else {
    process.stderr.write('usage: daemons.mjs install | start | stop PID...\n');
    process.exitCode = 2;
  }
}
