/** Types for daemons.mjs (test setup for the libvirt proof). */
export interface LibvirtHandle {
  uri: string;
  /** True when this call started at least one daemon. */
  started: boolean;
  pids: { virtlogd?: number; libvirtd?: number };
}
export const LIBVIRT_PACKAGES: string[];
export function installLibvirtPackages(): string[];
export function ensureLibvirtQemuUser(): void;
export function startLibvirt(opts?: { timeoutMs?: number }): Promise<LibvirtHandle>;
export function stopLibvirt(handle?: LibvirtHandle): Promise<void>;
