/**
 * Test-only: makes sure the libvirt peers (virsh, virt-xml-validate, libvirtd) exist for the
 * interop suites, installing Debian packages as root through scripts/libvirt/daemons.mjs.
 * Like `peerTestOptions`, the only way to skip is IMAGE_VAULT_SKIP_PEERS=1 (refused in CI).
 */
import { spawnSync } from 'node:child_process';
import { installLibvirtPackages } from '../../scripts/libvirt/daemons.mjs';

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
    installLibvirtPackages();
  }
  return {};
}
