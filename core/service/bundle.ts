/**
 * Handing an encrypted VM to someone (issue #6). Export writes a bundle folder: the image
 * (re-encrypted under a fresh master key by default), `manifest.json` (no secrets), the
 * libvirt secret and disk XML, and a README. Import verifies the checksum, unlocks with the
 * handed-over passphrase, rotates to the recipient's own passphrase, and optionally defines
 * the libvirt secret so the VM boots unattended.
 */
import { createHash } from '../crypto/node-crypto.js';
import { bundleManifestSchema } from '../api/result-schemas.js';
import { mkdir, readFile, writeFile, stat, type FileHandle } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { spawn } from 'node:child_process';
import { fail } from '../api/errors.js';
import type {
  BundleManifest,
  ExportRequest,
  ImageInfo,
  ImportRequest,
  LibvirtPlan,
} from '../api/types.js';
import type { JobContext } from '../jobs/job-registry.js';
import { withPartialOutput } from '../jobs/atomic-output.js';
import { openLockedFile } from '../io/locked-file.js';
import { libvirtPlan, DEFAULT_LIBVIRT_URI } from '../libvirt/plan.js';
import { libvirtDiskFormat } from '../libvirt/disk-xml.js';
import { bundleReadme } from '../libvirt/readme.js';
import { defineSecret } from '../libvirt/virsh.js';
import { assessLegacy, convertJob } from './convert.js';
import { inspectImage } from './inspect.js';
import { keyslotAdd, keyslotRemove, keyslotTest } from './keyslots.js';

export const MANIFEST = 'manifest.json';
export const TOOL_VERSION = 'image-vault 0.1.0';

/**
 * Streams a file through SHA-256, reporting bytes to the job's progress, and optionally
 * copies it to `copyTo` (an output claimed by `withPartialOutput`). Both files are opened
 * with their image locks (README "Image locks").
 */
async function sha256File(path: string, ctx?: JobContext, copyTo?: string): Promise<string> {
  const h = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      ctx?.progress.advance(chunk.length);
      cb(null, chunk);
    },
  });
  // The streams close their handles (and so release the locks) when they end; the finally
  // closes whatever a failure left open.
  const input = await openLockedFile(path);
  let output: FileHandle | undefined;
  try {
    output = copyTo ? await openLockedFile(copyTo, { createTruncate: true }) : undefined;
    const src = input.createReadStream();
    if (output) {
      await pipeline(src, tap, output.createWriteStream(), { signal: ctx?.signal });
    } else {
      tap.resume();
      await pipeline(src, tap, { signal: ctx?.signal });
    }
  } finally {
    await closeQuietly(output);
    await closeQuietly(input);
  }
  return h.digest('hex');
}

/** Closes a handle unless a stream already did. */
async function closeQuietly(fh: FileHandle | undefined): Promise<void> {
  if (fh && fh.fd !== -1) await fh.close().catch(() => undefined);
}

function cipherName(info: ImageInfo): string {
  const e = info.encryption;
  return e
    ? `${e.cipherAlg}-${e.cipherMode}-${e.ivgenAlg}${e.ivgenHashAlg ? ':' + e.ivgenHashAlg : ''}`
    : 'none';
}

export function planForImage(path: string, uri?: string): Promise<LibvirtPlan> {
  // Header facts only, as the app's inspect reads them: a running VM's image has a plan too.
  return inspectImage(path, { reportUse: true }).then((info) => {
    if (info.encryption?.format !== 'luks') {
      throw fail('NOT_ENCRYPTED', `${path} is not LUKS-encrypted: libvirt needs no secret for it`);
    }
    return libvirtPlan({
      imagePath: resolve(path),
      format: libvirtDiskFormat(info.format, 'luks'),
      uri,
    });
  });
}

export function exportJob(req: ExportRequest, threads?: number) {
  return async (ctx: JobContext): Promise<Record<string, unknown>> => {
    ctx.progress.setPhase('preparing');
    const src = await inspectImage(req.source);
    await mkdir(req.bundleDir, { recursive: true });
    const rawLuks = src.format === 'luks';
    const imageName = `${basename(req.source).replace(/\.[^.]+$/, '')}.${rawLuks ? 'luks' : 'qcow2'}`;
    const imagePath = join(req.bundleDir, imageName);
    if (req.keepMasterKey) {
      if (src.encryption?.format !== 'luks' || !req.sourcePassphrase) {
        throw fail(
          'INVALID_ARGUMENT',
          'Keeping the master key needs a LUKS source and its passphrase'
        );
      }
      ctx.progress.setPhase('copying', src.fileSize);
      await withPartialOutput(imagePath, (partial) => sha256File(req.source, ctx, partial), {
        signal: ctx.signal,
      });
      const { slot } = await keyslotAdd({
        path: imagePath,
        passphrase: req.sourcePassphrase,
        newPassphrase: req.recipientPassphrase,
        iterTimeMs: req.encryption?.iterTimeMs,
        iterations: req.encryption?.iterations,
      });
      for (const s of src.encryption.slots) {
        if (s.active && s.slot !== slot)
          await keyslotRemove({ path: imagePath, slot: s.slot, forceLast: false });
      }
    } else {
      if (src.encryption?.format === 'aes') {
        // Legacy AES is migrated on the way; refuse a passphrase that decrypts to noise.
        const verdict = await assessLegacy(
          req.source,
          req.sourcePassphrase ?? new Uint8Array(),
          threads
        );
        if (verdict.verdict === 'random') {
          throw fail(
            'WRONG_PASSPHRASE',
            `The source passphrase looks wrong: ${verdict.explanation}`
          );
        }
      }
      await convertJob(
        {
          source: req.source,
          target: imagePath,
          format: rawLuks ? 'luks' : 'qcow2',
          sourcePassphrase: req.sourcePassphrase,
          passphrase: req.recipientPassphrase,
          encryption: req.encryption,
          verify: true,
        },
        threads
      )(ctx);
    }
    ctx.progress.setPhase('finishing');
    const info = await inspectImage(imagePath);
    const sha256 = await sha256File(imagePath);
    const format = libvirtDiskFormat(info.format, 'luks');
    const plan = libvirtPlan({ imagePath: `/var/lib/libvirt/images/${imageName}`, format });
    const manifest: BundleManifest = {
      kind: 'image-vault-bundle',
      version: 1,
      tool: TOOL_VERSION,
      createdAt: new Date().toISOString(),
      recipient: req.recipient,
      image: imageName,
      format: rawLuks ? 'luks' : 'qcow2',
      virtualSize: info.virtualSize,
      luksUuid: info.encryption?.uuid ?? '',
      cipher: cipherName(info),
      sha256,
      secretUuid: plan.secretUuid,
      freshMasterKey: !req.keepMasterKey,
    };
    await writeFile(join(req.bundleDir, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
    await writeFile(join(req.bundleDir, 'secret.xml'), plan.secretXml);
    await writeFile(join(req.bundleDir, 'disk.xml'), plan.diskXml);
    await writeFile(
      join(req.bundleDir, 'README.txt'),
      bundleReadme({
        imageFile: imageName,
        format,
        secretUuid: plan.secretUuid,
        sha256,
        recipient: req.recipient,
        toolVersion: TOOL_VERSION,
        manifestFile: MANIFEST,
        secretXmlFile: 'secret.xml',
        diskXmlFile: 'disk.xml',
      })
    );
    let tarPath: string | undefined;
    if (req.tar) {
      tarPath = `${req.bundleDir.replace(/\/+$/, '')}.tar`;
      await runTar(tarPath, req.bundleDir);
    }
    return {
      bundleDir: req.bundleDir,
      image: imagePath,
      sha256,
      luksUuid: manifest.luksUuid,
      tar: tarPath,
    };
  };
}

function runTar(tarPath: string, dir: string): Promise<void> {
  return new Promise((res, rej) => {
    const p = spawn('tar', ['-cf', tarPath, '-C', resolve(dir, '..'), basename(resolve(dir))], {
      stdio: 'ignore',
    });
    p.on('error', () => rej(fail('PEER_MISSING', 'tar is not installed')));
    p.on('exit', (code) => (code === 0 ? res() : rej(fail('IO', `tar failed (exit ${code})`))));
  });
}

export async function readManifest(bundleDir: string): Promise<BundleManifest> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(join(bundleDir, MANIFEST), 'utf8'));
  } catch {
    throw fail(
      'NOT_AN_IMAGE',
      `${bundleDir} is not an Image Vault bundle (no readable ${MANIFEST})`
    );
  }
  const parsed = bundleManifestSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.slice(0, 3).map((i) => i.path.join('.') || 'manifest');
    throw fail('CORRUPT', `${MANIFEST} is not a valid bundle manifest (${fields.join(', ')})`);
  }
  if (parsed.data.image.includes('/')) {
    throw fail('CORRUPT', `${MANIFEST} names an image outside the bundle folder`);
  }
  return parsed.data;
}

export function importJob(req: ImportRequest, _threads?: number) {
  return async (ctx: JobContext): Promise<Record<string, unknown>> => {
    ctx.progress.setPhase('preparing');
    const manifest = await readManifest(req.bundleDir);
    const source = join(req.bundleDir, manifest.image);
    const size = (await stat(source)).size;
    ctx.progress.setPhase('copying', size);
    const sha = await withPartialOutput(
      req.target,
      async (partial) => {
        const digest = await sha256File(source, ctx, partial);
        if (digest !== manifest.sha256) {
          throw fail(
            'VERIFY_FAILED',
            'The bundle image does not match its checksum: it was damaged or altered'
          );
        }
        const info = await inspectImage(partial);
        if (info.encryption?.uuid !== manifest.luksUuid) {
          throw fail('VERIFY_FAILED', 'The bundle image is not the one its manifest describes');
        }
        await keyslotTest(partial, req.passphrase);
        return digest;
      },
      { signal: ctx.signal }
    );
    ctx.progress.setPhase('finishing');
    let activePass = req.passphrase;
    const removed: number[] = [];
    if (req.newPassphrase) {
      const { slot: handed } = await keyslotTest(req.target, req.passphrase);
      await keyslotAdd({
        path: req.target,
        passphrase: req.passphrase,
        newPassphrase: req.newPassphrase,
        iterTimeMs: req.encryption?.iterTimeMs,
        iterations: req.encryption?.iterations,
      });
      if (!req.keepHandedOver) {
        removed.push(...(await keyslotRemove({ path: req.target, slot: handed })).removed);
      }
      activePass = req.newPassphrase;
    }
    const info = await inspectImage(req.target);
    const uri = req.libvirtUri ?? DEFAULT_LIBVIRT_URI;
    const plan = libvirtPlan({
      imagePath: resolve(req.target),
      format: libvirtDiskFormat(info.format, 'luks'),
      uuid: manifest.secretUuid,
      uri,
    });
    let secretDefined = false;
    if (req.defineSecret) {
      await defineSecret({
        uri,
        secretXml: plan.secretXml,
        uuid: plan.secretUuid,
        passphrase: activePass,
      });
      secretDefined = true;
    }
    return {
      target: req.target,
      sha256: sha,
      rotated: Boolean(req.newPassphrase),
      removedSlots: removed,
      secretUuid: plan.secretUuid,
      secretDefined,
      diskXml: plan.diskXml,
      secretXml: plan.secretXml,
      steps: plan.steps,
    };
  };
}
