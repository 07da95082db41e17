/**
 * Checks a bundle before anything is written (issue #16, "Signed by the sender"): the
 * manifest's SSHSIG signature (namespace `image-vault-bundle`), the signer against an
 * allowed-signers file, and the sealed secret against the digest the manifest records.
 * A signed bundle whose contents differ from what was signed is `BAD_SIGNATURE`.
 */
import { readFile } from 'node:fs/promises';
import { fail, toVaultError } from '../api/errors.js';
import type { BundleManifest, BundleSigner } from '../api/types.js';
import { createHash } from '../crypto/node-crypto.js';
import { BUNDLE_NAMESPACE, sshsigVerify } from '../crypto/keys/sshsig.js';
import { parseAllowedSigners, trustedPrincipals } from '../crypto/keys/allowed-signers.js';
import { SEALED_SECRET, SIGNATURE } from './bundle-archive.js';

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface BundleCheck {
  signer?: BundleSigner;
  /** The manifest carries a valid signature: a content mismatch is then BAD_SIGNATURE. */
  signed: boolean;
}

/**
 * Verifies the signature (when present, always), applies the allowed-signers file (when
 * given: unsigned or untrusted is refused) and checks the sealed secret's digest.
 */
export async function checkBundle(
  files: Map<string, Uint8Array>,
  manifestBytes: Uint8Array,
  manifest: BundleManifest,
  allowedSignersFile?: string
): Promise<BundleCheck> {
  const sig = files.get(SIGNATURE);
  let signer: BundleSigner | undefined;
  if (sig) {
    const v = sshsigVerify(new TextDecoder().decode(sig), manifestBytes, BUNDLE_NAMESPACE);
    signer = {
      fingerprint: v.fingerprint,
      keyType: v.publicKey.type,
      ...(v.publicKey.comment ? { comment: v.publicKey.comment } : {}),
      principals: [],
      trusted: null,
    };
  }
  if (allowedSignersFile !== undefined) {
    let text: string;
    try {
      text = await readFile(allowedSignersFile, 'utf8');
    } catch (e) {
      throw toVaultError(e);
    }
    const signers = parseAllowedSigners(text);
    if (!signer || !sig) {
      throw fail(
        'BAD_SIGNATURE',
        'The bundle is not signed, and --allowed-signers requires a signature'
      );
    }
    const v = sshsigVerify(new TextDecoder().decode(sig), manifestBytes, BUNDLE_NAMESPACE);
    signer.principals = trustedPrincipals(signers, v.publicKey, BUNDLE_NAMESPACE);
    signer.trusted = signer.principals.length > 0;
    if (!signer.trusted) {
      throw fail(
        'BAD_SIGNATURE',
        `The bundle is signed by ${signer.fingerprint}, which the allowed-signers file does not trust for ${BUNDLE_NAMESPACE}`
      );
    }
  }
  const signed = signer !== undefined;
  const sealed = files.get(SEALED_SECRET);
  if (manifest.sealed) {
    if (!sealed)
      throw fail('TRUNCATED', `The bundle has no ${SEALED_SECRET} although its manifest names one`);
    if (sha256Hex(sealed) !== manifest.sealed.sha256) {
      throw fail(
        signed ? 'BAD_SIGNATURE' : 'VERIFY_FAILED',
        `${SEALED_SECRET} does not match the ${signed ? 'signed ' : ''}manifest: it was altered`
      );
    }
  } else if (sealed) {
    throw fail(
      'CORRUPT',
      `The bundle holds ${SEALED_SECRET} but its manifest does not describe it`
    );
  }
  return signer ? { signer, signed } : { signed };
}
