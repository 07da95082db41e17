/**
 * Handing an encrypted VM to someone (issues #6, #16). Export writes a bundle, as a folder or
 * as one file (README "Bundles: layout", bundle-archive.ts): the image re-encrypted under a
 * fresh master key by default, `manifest.json` (no secrets), optionally its SSHSIG signature
 * and the unlocking secret sealed to the recipients' keys, the libvirt XML and a README.
 * Import lives in bundle-import.ts.
 */
import { mkdir, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { createHash } from '../crypto/node-crypto.js';
import { bundleManifestSchema } from '../api/result-schemas.js';
import { fail } from '../api/errors.js';
import type { BundleManifest, ExportRequest, ImageInfo, LibvirtPlan } from '../api/types.js';
import type { JobContext } from '../jobs/job-registry.js';
import { partialPathFor, removeOutputs, withPartialOutput } from '../jobs/atomic-output.js';
import { openLockedFile } from '../io/locked-file.js';
import { libvirtPlan, DEFAULT_LIBVIRT_URI } from '../libvirt/plan.js';
import { libvirtDiskFormat } from '../libvirt/disk-xml.js';
import { bundleReadme } from '../libvirt/readme.js';
import { randomBytes } from '../crypto/random.js';
import { wipe } from '../crypto/secret.js';
import { parseRecipients, sealSecret } from '../crypto/keys/age-seal.js';
import { BUNDLE_NAMESPACE, sshsigSign } from '../crypto/keys/sshsig.js';
import { wipePrivateKey } from '../crypto/keys/ssh-private-key.js';
import { assessLegacy, convertJob } from './convert.js';
import { inspectImage } from './inspect.js';
import { keyslotAdd, keyslotRemove } from './keyslots.js';
import {
  MANIFEST,
  SEALED_SECRET,
  SIGNATURE,
  writeBundleArchive,
  type SmallEntry,
} from './bundle-archive.js';
import { loadSigningKey } from './bundle-keys.js';
import { sha256Hex } from './bundle-verify.js';

export { MANIFEST };
export const TOOL_VERSION = 'image-vault 0.1.0';

/** A tap that hashes what streams through it and reports progress. */
export function hashingTap(ctx?: JobContext) {
  const h = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      bytes += chunk.length;
      ctx?.progress.advance(chunk.length);
      cb(null, chunk);
    },
  });
  return { tap, digest: () => h.digest('hex'), bytes: () => bytes };
}

/**
 * Streams a file through SHA-256, reporting bytes to the job's progress. The file is read
 * with its image lock (README "Image locks"), released when the stream closes the handle.
 */
export async function sha256File(path: string, ctx?: JobContext): Promise<string> {
  const t = hashingTap(ctx);
  t.tap.resume();
  const input = await openLockedFile(path);
  await pipeline(input.createReadStream(), t.tap, { signal: ctx?.signal });
  return t.digest();
}

/**
 * A fresh random secret for sealed bundles: 44 characters of base64url (264 bits), printable
 * so it works as a passphrase in qemu-img's `secret,file=` and as a libvirt secret value.
 */
export function randomSecret(): Uint8Array {
  const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const r = randomBytes(44);
  const out = new Uint8Array(44);
  for (let i = 0; i < 44; i++) out[i] = ALPHA.charCodeAt(r[i]! & 63);
  wipe(r);
  return out;
}

function cipherName(info: ImageInfo): string {
  const e = info.encryption;
  return e
    ? `${e.cipherAlg}-${e.cipherMode}-${e.ivgenAlg}${e.ivgenHashAlg ? ':' + e.ivgenHashAlg : ''}`
    : 'none';
}

export function planForImage(path: string, uri?: string): Promise<LibvirtPlan> {
  return inspectImage(path).then((info) => {
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

/** Where an export writes: the folder, or the bundle file and a temporary image beside it. */
function exportPaths(req: ExportRequest, imageName: string) {
  if (!req.tar) return { tarPath: undefined, imagePath: join(req.bundleDir, imageName) };
  const tarPath = req.bundleDir.endsWith('.tar')
    ? req.bundleDir
    : `${req.bundleDir.replace(/\/+$/, '')}.tar`;
  return { tarPath, imagePath: `${tarPath}.image` };
}

export function exportJob(req: ExportRequest, threads?: number) {
  return async (ctx: JobContext): Promise<Record<string, unknown>> => {
    ctx.progress.setPhase('preparing');
    const sealTo = req.sealTo ? parseRecipients(req.sealTo) : undefined;
    if (sealTo && req.recipientPassphrase) {
      throw fail(
        'INVALID_ARGUMENT',
        'A sealed bundle gets a fresh random secret: give no recipient passphrase'
      );
    }
    if (!sealTo && !req.recipientPassphrase) {
      throw fail(
        'INVALID_ARGUMENT',
        'Give a recipient passphrase or the keys to seal the bundle to'
      );
    }
    const signingKey = req.signingKey
      ? await loadSigningKey(req.signingKey, req.signingKeyPassphrase)
      : undefined;
    const secret = sealTo ? randomSecret() : req.recipientPassphrase!;
    try {
      const src = await inspectImage(req.source);
      const rawLuks = src.format === 'luks';
      const imageName = `${basename(req.source).replace(/\.[^.]+$/, '')}.${rawLuks ? 'luks' : 'qcow2'}`;
      const { tarPath, imagePath } = exportPaths(req, imageName);
      const made = await mkdir(tarPath ? dirname(tarPath) : req.bundleDir, { recursive: true });
      if (tarPath) {
        if (
          await stat(tarPath).then(
            () => true,
            () => false
          )
        ) {
          throw fail('EXISTS', `The target already exists: ${tarPath} (choose another name)`);
        }
        await rm(imagePath, { force: true }); // a temporary image a killed export left
      }
      try {
        await makeImage(req, src, imagePath, secret, ctx, threads);
        ctx.progress.setPhase('finishing');
        const info = await inspectImage(imagePath);
        const sha256 = await sha256File(imagePath);
        const imageSize = (await stat(imagePath)).size;
        const format = libvirtDiskFormat(info.format, 'luks');
        const plan = libvirtPlan({ imagePath: `/var/lib/libvirt/images/${imageName}`, format });
        const sealed = sealTo ? await sealSecret(secret, sealTo) : undefined;
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
          imageSize,
          ...(sealed && sealTo
            ? {
                sealed: {
                  file: SEALED_SECRET,
                  sha256: sha256Hex(sealed),
                  recipients: sealTo.map((r) => ({
                    type: r.type,
                    fingerprint: r.fingerprint,
                    ...(r.comment ? { comment: r.comment } : {}),
                  })),
                },
              }
            : {}),
        };
        const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n');
        const enc = (s: string) => new TextEncoder().encode(s);
        const small: SmallEntry[] = [{ name: MANIFEST, data: manifestBytes }];
        if (signingKey) {
          small.push({
            name: SIGNATURE,
            data: enc(sshsigSign(signingKey, manifestBytes, BUNDLE_NAMESPACE)),
          });
        }
        if (sealed) small.push({ name: SEALED_SECRET, data: sealed, mode: 0o600 });
        small.push(
          { name: 'secret.xml', data: enc(plan.secretXml) },
          { name: 'disk.xml', data: enc(plan.diskXml) },
          {
            name: 'README.txt',
            data: enc(
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
                ...(sealed ? { sealedSecretFile: SEALED_SECRET } : {}),
                ...(signingKey ? { signatureFile: SIGNATURE } : {}),
              })
            ),
          }
        );
        if (tarPath) {
          ctx.progress.setPhase('packing', imageSize);
          const t = hashingTap(ctx);
          await withPartialOutput(
            tarPath,
            (partial) =>
              writeBundleArchive({
                out: partial,
                top: basename(tarPath).replace(/\.tar$/, ''),
                mtime: new Date(manifest.createdAt),
                small,
                imageName,
                imagePath,
                tap: t.tap,
                signal: ctx.signal,
              }),
            { signal: ctx.signal }
          );
          if (t.digest() !== sha256) {
            await rm(tarPath, { force: true });
            throw fail('VERIFY_FAILED', 'The image changed while it was packed into the bundle');
          }
        } else {
          for (const e of small) {
            await writeFile(join(req.bundleDir, e.name), e.data, { mode: e.mode ?? 0o644 });
          }
        }
        return {
          bundleDir: tarPath ?? req.bundleDir,
          image: tarPath ? `${tarPath}/${imageName}` : imagePath,
          sha256,
          luksUuid: manifest.luksUuid,
          sealedTo: manifest.sealed?.recipients.map((r) => r.fingerprint) ?? [],
          signedBy: signingKey ? sshFingerprintOf(signingKey.publicKey) : null,
          ...(tarPath ? { tar: tarPath } : {}),
        };
      } catch (e) {
        // An export is not resumable: leave nothing of it behind (issue #13).
        await removeOutputs(partialPathFor(imagePath)).catch(() => undefined);
        if (!tarPath) await rm(imagePath, { force: true }).catch(() => undefined);
        if (made) await rmdir(made).catch(() => undefined);
        throw e;
      } finally {
        if (tarPath) await rm(imagePath, { force: true }).catch(() => undefined);
      }
    } finally {
      if (sealTo) wipe(secret);
      wipePrivateKey(signingKey);
    }
  };
}

function sshFingerprintOf(pk: { blob: Uint8Array }): string {
  return `SHA256:${Buffer.from(createHash('sha256').update(pk.blob).digest()).toString('base64').replace(/=+$/, '')}`;
}

/** The bundle's image: re-encrypted under a fresh master key, or a copy with swapped slots. */
async function makeImage(
  req: ExportRequest,
  src: ImageInfo,
  imagePath: string,
  secret: Uint8Array,
  ctx: JobContext,
  threads?: number
): Promise<void> {
  if (req.keepMasterKey) {
    if (src.encryption?.format !== 'luks' || !req.sourcePassphrase) {
      throw fail(
        'INVALID_ARGUMENT',
        'Keeping the master key needs a LUKS source and its passphrase'
      );
    }
    ctx.progress.setPhase('copying', src.fileSize);
    await withPartialOutput(
      imagePath,
      async (partial) => {
        const t = hashingTap(ctx);
        const { createWriteStream } = await import('node:fs');
        const input = await openLockedFile(req.source);
        await pipeline(
          input.createReadStream(),
          t.tap,
          createWriteStream(partial, { flags: 'r+' }),
          {
            signal: ctx.signal,
          }
        );
        const { slot } = await keyslotAdd({
          path: partial,
          passphrase: req.sourcePassphrase!,
          newPassphrase: secret,
          iterTimeMs: req.encryption?.iterTimeMs,
          iterations: req.encryption?.iterations,
        });
        for (const s of src.encryption!.slots) {
          if (s.active && s.slot !== slot)
            await keyslotRemove({ path: partial, slot: s.slot, forceLast: false });
        }
      },
      { signal: ctx.signal }
    );
    return;
  }
  if (src.encryption?.format === 'aes') {
    // Legacy AES is migrated on the way; refuse a passphrase that decrypts to noise.
    const verdict = await assessLegacy(
      req.source,
      req.sourcePassphrase ?? new Uint8Array(),
      threads
    );
    if (verdict.verdict === 'random') {
      throw fail('WRONG_PASSPHRASE', `The source passphrase looks wrong: ${verdict.explanation}`);
    }
  }
  await convertJob(
    {
      source: req.source,
      target: imagePath,
      format: src.format === 'luks' ? 'luks' : 'qcow2',
      sourcePassphrase: req.sourcePassphrase,
      passphrase: secret,
      encryption: req.encryption,
      verify: true,
    },
    threads
  )(ctx);
}

/** Parses and checks manifest bytes. */
export function parseManifest(bytes: Uint8Array | undefined, where: string): BundleManifest {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw fail('NOT_AN_IMAGE', `${where} is not an Image Vault bundle (no readable ${MANIFEST})`);
  }
  const parsed = bundleManifestSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.slice(0, 3).map((i) => i.path.join('.') || 'manifest');
    throw fail('CORRUPT', `${MANIFEST} is not a valid bundle manifest (${fields.join(', ')})`);
  }
  const m = parsed.data;
  if (!/^[^/\\]+$/.test(m.image) || m.image === '.' || m.image === '..' || m.image === MANIFEST) {
    throw fail('CORRUPT', `${MANIFEST} names an image outside the bundle folder`);
  }
  if (m.sealed && m.sealed.file !== SEALED_SECRET) {
    throw fail('CORRUPT', `${MANIFEST} names a sealed secret other than ${SEALED_SECRET}`);
  }
  return m;
}

export { DEFAULT_LIBVIRT_URI };
