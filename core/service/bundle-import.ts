/**
 * Importing a bundle (issues #6, #13, #14, #16): folder or file, read once as a stream.
 *
 * Order (README "Bundles: import"): the manifest, its signature, the allowed signers and the
 * sealed secret are checked and the secret opened before anything is written; the image then
 * streams into `TARGET.partial` while it is hashed; the copy is checked (digest, size, LUKS
 * UUID, the handed-over secret opens it) and re-keyed while it is still the partial; only
 * then is it renamed. A kill at any point leaves either no target (a re-run starts over) or
 * a finished, re-keyed target that a re-run recognises and completes (libvirt secret).
 * A failed libvirt step is reported as such; the import itself stands.
 */
import { createWriteStream } from 'node:fs';
import { readFile, rename, stat, statfs, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fail, isVaultError, toVaultError, type VaultError } from '../api/errors.js';
import type { BundleManifest, BundleSummary, ImportRequest, Passphrase } from '../api/types.js';
import type { JobContext } from '../jobs/job-registry.js';
import { fsyncPath, withPartialOutput } from '../jobs/atomic-output.js';
import { libvirtPlan, DEFAULT_LIBVIRT_URI } from '../libvirt/plan.js';
import { libvirtDiskFormat } from '../libvirt/disk-xml.js';
import { defineSecret } from '../libvirt/virsh.js';
import { wipe } from '../crypto/secret.js';
import { sealSecret, unsealSecret, type OpenIdentity } from '../crypto/keys/age-seal.js';
import { inspectImage } from './inspect.js';
import { keyslotAdd, keyslotRemove, keyslotTest } from './keyslots.js';
import {
  MANIFEST,
  SEALED_SECRET,
  SIGNATURE,
  openBundle,
  tarError,
  type OpenedBundle,
} from './bundle-archive.js';
import { BUNDLE_NAMESPACE, sshsigVerify } from '../crypto/keys/sshsig.js';
import { checkBundle, type BundleCheck } from './bundle-verify.js';
import { defaultIdentityFile, loadIdentities } from './bundle-keys.js';
import { hashingTap, parseManifest, randomSecret } from './bundle.js';

/** `TARGET.secret.age`: the recipient's fresh random secret, sealed to their own key. */
export function secretFileFor(target: string): string {
  return `${target}.secret.age`;
}

/** One step of an import, as the result reports it (issue #14, "Partial success"). */
export interface ImportStep {
  step: 'verify' | 'copy' | 'rekey' | 'define-secret';
  ok: boolean;
  detail: string;
  code?: string;
}

/** The manifest, after its signature (when there is one) verified: BAD_SIGNATURE first. */
function manifestOf(files: Map<string, Uint8Array>, path: string) {
  const sig = files.get(SIGNATURE);
  const bytes = files.get(MANIFEST);
  if (sig && bytes) sshsigVerify(new TextDecoder().decode(sig), bytes, BUNDLE_NAMESPACE);
  return parseManifest(bytes, path);
}

async function openChecked(path: string) {
  const opened = await openBundle(path, (files) => manifestOf(files, path).image);
  const manifestBytes = opened.files.get(MANIFEST)!;
  return { opened, manifestBytes, manifest: manifestOf(opened.files, path) };
}

/** The manifest, who signed it and whether they are trusted; writes nothing. */
export async function inspectBundle(
  path: string,
  allowedSignersFile?: string
): Promise<BundleSummary> {
  const { opened, manifestBytes, manifest } = await openChecked(path);
  try {
    const check = await checkBundle(opened.files, manifestBytes, manifest, allowedSignersFile);
    return {
      manifest,
      layout: opened.layout,
      signed: check.signed,
      ...(check.signer ? { signer: check.signer } : {}),
      sealed: manifest.sealed !== undefined,
    };
  } finally {
    opened.close();
  }
}

/** Reads and checks a bundle's manifest (folder or file); a folder needs no image for it. */
export async function readManifest(path: string): Promise<BundleManifest> {
  const st = await stat(path).catch((e) => Promise.reject(toVaultError(e)));
  if (st.isDirectory()) {
    const bytes = await readFile(join(path, MANIFEST)).catch(() => undefined);
    return parseManifest(bytes, path);
  }
  const { opened, manifest } = await openChecked(path);
  opened.close();
  return manifest;
}

function mismatch(check: BundleCheck, what: string): VaultError {
  return check.signed
    ? fail(
        'BAD_SIGNATURE',
        `${what} does not match the signed manifest: the bundle was altered after signing`
      )
    : fail('VERIFY_FAILED', `${what} does not match its checksum: it was damaged or altered`);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (e) => ((e as { code?: string }).code === 'ENOENT' ? false : Promise.reject(toVaultError(e)))
  );
}

/** Refuses early when the target's file system cannot hold the image. */
async function checkSpace(target: string, bytes: number): Promise<void> {
  const fs = await statfs(dirname(resolve(target))).catch(() => undefined);
  if (fs && fs.bavail * fs.bsize < bytes) {
    const mib = (n: number) => `${Math.ceil(n / 2 ** 20)} MiB`;
    throw fail(
      'NO_SPACE',
      `No space left on the target disk: the image needs ${mib(bytes)}, ${mib(fs.bavail * fs.bsize)} free (${dirname(resolve(target))})`
    );
  }
}

export function importJob(req: ImportRequest, _threads?: number) {
  return async (ctx: JobContext): Promise<Record<string, unknown>> => {
    ctx.progress.setPhase('checking-bundle');
    const report: ImportStep[] = [];
    let identities: OpenIdentity[] = [];
    let handed: Uint8Array | undefined;
    let fresh: Uint8Array | undefined;
    let opened: OpenedBundle | undefined;
    try {
      const o = await openChecked(req.bundleDir);
      opened = o.opened;
      const { manifest, manifestBytes } = o;
      const check = await checkBundle(
        opened.files,
        manifestBytes,
        manifest,
        req.allowedSignersFile
      );
      if (manifest.imageSize !== undefined && opened.imageSize !== manifest.imageSize) {
        throw mismatch(check, `The image's size (${opened.imageSize} bytes)`);
      }
      if (manifest.sealed) {
        identities = await loadIdentities(
          req.identityFile ?? defaultIdentityFile(),
          req.identityPassphrase
        );
        handed = await unsealSecret(opened.files.get(SEALED_SECRET)!, identities);
      } else {
        if (!req.passphrase)
          throw fail('NEEDS_PASSPHRASE', 'This bundle needs the handed-over passphrase');
        handed = req.passphrase;
      }
      const signer = check.signer
        ? `signed by ${check.signer.fingerprint}${check.signer.trusted ? ` (trusted: ${check.signer.principals.join(', ')})` : ''}`
        : 'not signed';
      report.push({ step: 'verify', ok: true, detail: `Manifest checked, ${signer}` });

      let active: Uint8Array;
      const resumed = (await exists(req.target))
        ? await finishedImport(req, manifest, handed, identities)
        : undefined;
      if (resumed) {
        active = resumed;
        fresh = resumed === handed || resumed === req.newPassphrase ? undefined : resumed;
        opened.close();
        report.push({
          step: 'copy',
          ok: true,
          detail: `Already imported to ${req.target} (an earlier run)`,
        });
      } else {
        await checkSpace(req.target, opened.imageSize);
        ctx.progress.setPhase('copying', opened.imageSize);
        const src = opened;
        const h = handed;
        const r = await withPartialOutput(
          req.target,
          async (partial) => {
            const t = hashingTap(ctx);
            try {
              await pipeline(src.image(), t.tap, createWriteStream(partial, { flags: 'r+' }), {
                signal: ctx.signal,
              });
              await src.finish();
            } catch (e) {
              throw tarError(e);
            }
            if (t.bytes() !== src.imageSize)
              throw fail('TRUNCATED', 'The bundle image is truncated');
            if (t.digest() !== manifest.sha256) throw mismatch(check, 'The bundle image');
            const info = await inspectImage(partial);
            if (info.encryption?.uuid !== manifest.luksUuid) {
              throw mismatch(check, 'The image (its LUKS UUID)');
            }
            ctx.progress.setPhase('rekeying');
            await keyslotTest(partial, h);
            return rekeyPartial(req, partial, h, identities, manifest.sealed !== undefined);
          },
          { signal: ctx.signal }
        );
        active = r.active;
        fresh = r.fresh;
        report.push({
          step: 'copy',
          ok: true,
          detail: `Image copied to ${req.target} and verified (SHA-256, LUKS UUID)`,
        });
        report.push({ step: 'rekey', ok: true, detail: r.detail });
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
        ctx.progress.setPhase('libvirt');
        try {
          await defineSecret({
            uri,
            secretXml: plan.secretXml,
            uuid: plan.secretUuid,
            passphrase: active,
          });
          secretDefined = true;
          report.push({
            step: 'define-secret',
            ok: true,
            detail: `libvirt secret ${plan.secretUuid} defined and set (${uri})`,
          });
        } catch (e) {
          const err = toVaultError(e);
          report.push({ step: 'define-secret', ok: false, code: err.code, detail: err.message });
        }
      }
      return {
        target: req.target,
        sha256: manifest.sha256,
        rotated: active !== handed,
        removedSlots: [],
        secretUuid: plan.secretUuid,
        secretDefined,
        secretFile: fresh ? secretFileFor(req.target) : null,
        signer: check.signer ?? null,
        report,
        incomplete: report.some((s) => !s.ok),
        diskXml: plan.diskXml,
        secretXml: plan.secretXml,
        steps: plan.steps,
      };
    } finally {
      opened?.close();
      identities.forEach((i) => i.dispose());
      if (handed !== req.passphrase) wipe(handed);
      wipe(fresh);
    }
  };
}

/**
 * Re-keys the still-partial copy: to the recipient's passphrase, or (sealed bundles) to a
 * fresh random secret first written, sealed to the recipient's own key, as
 * `TARGET.secret.age`. The key file is durable before the slot that needs it exists.
 */
async function rekeyPartial(
  req: ImportRequest,
  partial: string,
  handed: Uint8Array,
  identities: OpenIdentity[],
  sealed: boolean
): Promise<{ active: Uint8Array; fresh?: Uint8Array; detail: string }> {
  let next = req.newPassphrase;
  let fresh: Uint8Array | undefined;
  if (!next && sealed && !req.keepHandedOver) {
    fresh = randomSecret();
    next = fresh;
    const keyFile = secretFileFor(req.target);
    const sealedKey = await sealSecret(
      fresh,
      identities.map((i) => i.recipient)
    );
    await writeFile(`${keyFile}.partial`, sealedKey, { mode: 0o600 });
    await fsyncPath(`${keyFile}.partial`, false);
    await rename(`${keyFile}.partial`, keyFile);
    await fsyncPath(dirname(resolve(keyFile)), true);
  }
  if (!next) return { active: handed, detail: 'Kept the handed-over secret (not re-keyed)' };
  const { slot } = await keyslotTest(partial, handed);
  await keyslotAdd({
    path: partial,
    passphrase: handed,
    newPassphrase: next,
    iterTimeMs: req.encryption?.iterTimeMs,
    iterations: req.encryption?.iterations,
  });
  if (!req.keepHandedOver) await keyslotRemove({ path: partial, slot });
  const what = fresh
    ? `a fresh random secret, sealed to your key in ${secretFileFor(req.target)}`
    : 'your passphrase';
  return {
    active: next,
    ...(fresh ? { fresh } : {}),
    detail: `Re-keyed to ${what}${req.keepHandedOver ? '' : '; the handed-over secret no longer opens it'}`,
  };
}

/**
 * A target that an earlier run of this import finished: same LUKS UUID, and the secret that
 * run left (the new passphrase, the sealed key file, or the handed-over secret when kept)
 * opens it. Returns that secret, or throws `EXISTS` for any other file.
 */
async function finishedImport(
  req: ImportRequest,
  manifest: BundleManifest,
  handed: Uint8Array,
  identities: OpenIdentity[]
): Promise<Uint8Array | undefined> {
  const refuse = () =>
    fail('EXISTS', `The target already exists: ${req.target} (choose another name or remove it)`);
  const info = await inspectImage(req.target).catch(() => undefined);
  if (!info || info.encryption?.uuid !== manifest.luksUuid) throw refuse();
  const candidates: Uint8Array[] = [];
  if (req.newPassphrase) candidates.push(req.newPassphrase);
  if (manifest.sealed && !req.newPassphrase && !req.keepHandedOver) {
    const sealedKey = await readFile(secretFileFor(req.target)).catch(() => undefined);
    if (sealedKey) candidates.push(await unsealSecret(sealedKey, identities));
  }
  if (req.keepHandedOver || (!req.newPassphrase && !manifest.sealed)) candidates.push(handed);
  for (const c of candidates) {
    try {
      await keyslotTest(req.target, c as Passphrase);
      return c;
    } catch (e) {
      if (!isVaultError(e, 'WRONG_PASSPHRASE')) throw e;
    }
  }
  throw refuse();
}
