/**
 * Checks before a job starts (issue #14, docs/DESIGN.md "Data safety"): everything a face can
 * learn cheaply that would make a convert, migrate, export or import fail later, reported per
 * field so the face shows it next to the input at fault. Reads only; writes nothing.
 */
import { readdir, stat, statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { toVaultError } from '../api/errors.js';
import type {
  ImageInfo,
  PreflightProblem,
  PreflightReport,
  PreflightRequest,
} from '../api/types.js';
import { runVirsh, virshErrorText } from '../libvirt/virsh-run.js';
import { readManifest } from './bundle-import.js';
import { assessLegacy } from './convert.js';
import { inspectImage } from './inspect.js';
import { keyslotTest } from './keyslots.js';

const MiB = 2 ** 20;

/** Output size bounds: `data` is what the source holds now, `worst` the most it may need. */
interface SpaceNeed {
  data: number;
  worst: number;
}

/** Size in plain words for messages (MiB below 1 GiB, GiB with one decimal above). */
export function sizeWords(n: number): string {
  if (n < 2 ** 30) return `${Math.max(1, Math.ceil(n / MiB))} MiB`;
  if (n < 2 ** 40) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  return `${(n / 2 ** 40).toFixed(1)} TiB`;
}

/**
 * An image written from `info`: every guest byte may be allocated, plus qcow2 tables (8 bytes
 * per 64 KiB cluster, refcounts) and a LUKS header (up to 16 MiB for LUKS2).
 */
function imageNeed(info: ImageInfo): SpaceNeed {
  const overhead = Math.ceil(info.virtualSize / 4096) + 16 * MiB;
  return { data: info.actualSize + 16 * MiB, worst: info.virtualSize + overhead };
}

async function pathKind(p: string): Promise<'file' | 'directory' | 'other' | null> {
  try {
    const s = await stat(p);
    return s.isDirectory() ? 'directory' : s.isFile() ? 'file' : 'other';
  } catch {
    return null;
  }
}

async function freeBytes(dir: string): Promise<number | null> {
  try {
    const fs = await statfs(dir);
    return fs.bavail * fs.bsize;
  } catch {
    return null;
  }
}

/** Runs the checks `req` asks for; never throws for what it finds (that is the report). */
export async function preflight(req: PreflightRequest): Promise<PreflightReport> {
  const problems: PreflightProblem[] = [];
  const add = (p: PreflightProblem) => problems.push(p);
  const target = resolve(req.target);
  const folder = dirname(target);
  let need: SpaceNeed = { data: 0, worst: 0 };

  // The source, and what it says about the output's size.
  let info: ImageInfo | undefined;
  let bundleUuid: string | undefined;
  try {
    if (req.kind === 'import') {
      const m = await readManifest(req.source);
      bundleUuid = m.luksUuid;
      const size = m.imageSize ?? m.virtualSize;
      need = { data: size, worst: size };
    } else {
      info = await inspectImage(req.source);
      need = imageNeed(info);
      if (req.kind === 'export') {
        // The re-keyed copy is written first and packed after: twice the space for a while.
        const twice = req.target.endsWith('.tar') ? 2 : 1;
        need = { data: need.data * twice, worst: need.worst * twice };
      }
    }
  } catch (e) {
    const err = toVaultError(e);
    add({ field: 'source', severity: 'error', code: err.code, message: err.message });
  }
  if (resolve(req.source) === target) {
    add({
      field: 'target',
      severity: 'error',
      code: 'INVALID_ARGUMENT',
      message: 'The output needs a different name than the source.',
    });
  }

  // The target: its folder exists, its name is free (or replacing it was confirmed).
  const folderKind = await pathKind(folder);
  if (folderKind !== 'directory') {
    add({
      field: 'target',
      severity: 'error',
      code: 'NOT_FOUND',
      message: `The folder ${folder} does not exist.`,
    });
  } else {
    const existing = await pathKind(target);
    if (existing !== null && !(await targetMayStay(req, target, existing, bundleUuid))) {
      add({
        field: 'target',
        severity: 'error',
        code: 'EXISTS',
        message:
          req.kind === 'convert'
            ? `${target} already exists. Choose another name, or confirm that it is replaced.`
            : `${target} already exists. Choose another name.`,
      });
    }
  }

  // The source passphrase opens the source (when the face has not checked it already).
  if (info?.encrypted && req.sourcePassphrase && req.kind !== 'migrate') {
    await checkPassphrase(req, info, add);
  }

  // Free space for the worst case.
  const free = folderKind === 'directory' ? await freeBytes(folder) : null;
  if (free !== null && need.worst > 0) {
    if (free < need.data) {
      add({
        field: 'space',
        severity: 'error',
        code: 'NO_SPACE',
        message: `Not enough free space in ${folder}: the output needs at least ${sizeWords(need.data)}, ${sizeWords(free)} are free.`,
      });
    } else if (free < need.worst) {
      add({
        field: 'space',
        severity: 'warning',
        code: 'NO_SPACE',
        message: `The output may need up to ${sizeWords(need.worst)} (if the whole disk gets data), but only ${sizeWords(free)} are free in ${folder}. It fits only while the image stays sparse.`,
      });
    }
  }

  if (req.libvirtUri !== undefined) await checkLibvirt(req.libvirtUri, add);

  return {
    ok: !problems.some((p) => p.severity === 'error'),
    problems,
    bytesNeeded: need.worst,
    bytesFree: free,
  };
}

/**
 * An existing target that does not stop the job: convert with overwrite confirmed, an export
 * folder that is empty, or the image an earlier run of this import finished (same LUKS UUID,
 * bundle-import.ts finishes only the steps left).
 */
async function targetMayStay(
  req: PreflightRequest,
  target: string,
  kind: 'file' | 'directory' | 'other',
  bundleUuid: string | undefined
): Promise<boolean> {
  if (req.kind === 'convert') return req.overwrite === true && kind === 'file';
  if (req.kind === 'export' && kind === 'directory' && !target.endsWith('.tar')) {
    return (await readdir(target).catch(() => ['?'])).length === 0;
  }
  if (req.kind === 'import' && kind === 'file' && bundleUuid) {
    const info = await inspectImage(target).catch(() => undefined);
    return info?.encryption?.uuid === bundleUuid;
  }
  return false;
}

async function checkPassphrase(
  req: PreflightRequest,
  info: ImageInfo,
  add: (p: PreflightProblem) => void
): Promise<void> {
  if (!req.sourcePassphrase) return;
  try {
    if (info.encryption?.format === 'aes') {
      // Legacy AES has no check value: only the sampled sectors can hint at a wrong one.
      const a = await assessLegacy(req.source, req.sourcePassphrase);
      if (a.verdict === 'random') {
        add({
          field: 'sourcePassphrase',
          severity: 'warning',
          code: 'WRONG_PASSPHRASE',
          message: `The passphrase looks wrong: ${a.explanation}`,
        });
      }
    } else {
      await keyslotTest(req.source, req.sourcePassphrase);
    }
  } catch (e) {
    const err = toVaultError(e);
    add({
      field: 'sourcePassphrase',
      severity: 'error',
      code: err.code,
      message:
        err.code === 'WRONG_PASSPHRASE'
          ? 'This passphrase does not open the source image.'
          : err.message,
    });
  }
}

async function checkLibvirt(uri: string, add: (p: PreflightProblem) => void): Promise<void> {
  try {
    const r = await runVirsh({ uri }, ['uri'], undefined, 15_000);
    if (r.code !== 0) {
      add({
        field: 'libvirt',
        severity: 'error',
        code: 'IO',
        message: `libvirt does not answer at ${uri}: ${virshErrorText(r)}. Is libvirtd running?`,
      });
    }
  } catch (e) {
    const err = toVaultError(e);
    add({ field: 'libvirt', severity: 'error', code: err.code, message: err.message });
  }
}
