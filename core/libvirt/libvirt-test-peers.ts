/**
 * Test-only: makes sure the libvirt peers (virsh, virt-xml-validate, libvirtd) exist for the
 * interop suites, installing Debian packages as root through scripts/libvirt/daemons.mjs.
 * Like `peerTestOptions`, the only way to skip is IMAGE_VAULT_SKIP_PEERS=1 (refused in CI).
 *
 * Tests run both from source (tsx) and compiled (dist/core/...), so the script is found by
 * walking up to the repository root rather than by a fixed relative import.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** What scripts/libvirt/daemons.mjs exports. */
export interface LibvirtHandle {
  uri: string;
  /** True when this call started at least one daemon. */
  started: boolean;
  pids: { virtlogd?: number; libvirtd?: number };
}
export interface DaemonsModule {
  startLibvirt(opts?: { timeoutMs?: number }): Promise<LibvirtHandle>;
  stopLibvirt(handle?: LibvirtHandle): Promise<void>;
}

/** Absolute path of scripts/libvirt/daemons.mjs, found above this file. */
export function daemonsScript(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'scripts', 'libvirt', 'daemons.mjs');
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error('scripts/libvirt/daemons.mjs not found above the test');
    dir = up;
  }
}

/** Loads the daemon start/stop helpers. */
export async function loadDaemons(): Promise<DaemonsModule> {
  return (await import(pathToFileURL(daemonsScript()).href)) as DaemonsModule;
}

function hasTool(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

/** `node:test` options for a libvirt interop suite; throws when peers are missing. */
export function libvirtTestOptions(opts: { needsRoot?: boolean } = {}): { skip?: string } {
  if (process.env.IMAGE_VAULT_SKIP_PEERS === '1') {
    if (process.env.CI) throw new Error('IMAGE_VAULT_SKIP_PEERS is not allowed in CI');
    return { skip: 'peer suites skipped by IMAGE_VAULT_SKIP_PEERS=1' };
  }
  const root = process.getuid?.() === 0;
  if (opts.needsRoot === true && !root) {
    throw new Error('the libvirt qemu:///system suite needs root (it starts libvirtd)');
  }
  const tools = ['virsh', 'virt-xml-validate', 'xmllint', 'qemu-img'];
  if (tools.some((t) => !hasTool(t))) {
    if (!root) {
      throw new Error(
        'libvirt peers missing: install Debian libvirt-clients libxml2-utils (or run as root)'
      );
    }
    const r = spawnSync(process.execPath, [daemonsScript(), 'install'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('installing the libvirt packages failed');
  }
  return {};
}
