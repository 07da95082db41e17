/**
 * SSH signatures in OpenSSH's SSHSIG format (PROTOCOL.sshsig), what `ssh-keygen -Y sign`
 * writes and `ssh-keygen -Y verify` checks: ed25519 (noble) and RSA with `rsa-sha2-512` /
 * `rsa-sha2-256` (PKCS#1 v1.5, micro-rsa-dsa-dh, which builds on noble). The message is
 * hashed with SHA-512 (ssh-keygen's default) or SHA-256. README "Bundles: keys and formats".
 */
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { PKCS1_SHA256, PKCS1_SHA512 } from 'micro-rsa-dsa-dh/rsa.js';
import { fail } from '../../api/errors.js';
import { WireReader, concatBytes, u32, wireString } from './ssh-wire.js';
import {
  decodeBase64Strict,
  parsePublicKeyBlob,
  sshFingerprint,
  type SshPublicKey,
} from './ssh-public-key.js';
import type { SshPrivateKey } from './ssh-private-key.js';

const MAGIC = new TextEncoder().encode('SSHSIG');
const BEGIN = '-----BEGIN SSH SIGNATURE-----';
const END = '-----END SSH SIGNATURE-----';

/** The namespace bundle signatures use (`ssh-keygen -Y … -n image-vault-bundle`). */
export const BUNDLE_NAMESPACE = 'image-vault-bundle';

function hashFor(name: string): (m: Uint8Array) => Uint8Array {
  if (name === 'sha512') return sha512;
  if (name === 'sha256') return sha256;
  throw fail('BAD_SIGNATURE', `Signature hash ${name.slice(0, 20)} is not sha256 or sha512`);
}

/** The bytes the key signs (PROTOCOL.sshsig, "Signed Data"). */
function signedData(namespace: string, hashAlg: string, message: Uint8Array): Uint8Array {
  return concatBytes(
    MAGIC,
    wireString(namespace),
    wireString(''),
    wireString(hashAlg),
    wireString(hashFor(hashAlg)(message))
  );
}

/** Signs `message` as `ssh-keygen -Y sign -n NAMESPACE` does; returns the armored text. */
export function sshsigSign(key: SshPrivateKey, message: Uint8Array, namespace: string): string {
  const data = signedData(namespace, 'sha512', message);
  let sig: Uint8Array;
  if (key.type === 'ssh-ed25519') {
    sig = concatBytes(wireString('ssh-ed25519'), wireString(ed25519.sign(data, key.seed)));
  } else {
    const s = PKCS1_SHA512.sign({ n: key.n, d: key.d }, data);
    sig = concatBytes(wireString('rsa-sha2-512'), wireString(s));
  }
  const blob = concatBytes(
    MAGIC,
    u32(1),
    wireString(key.publicKey.blob),
    wireString(namespace),
    wireString(''),
    wireString('sha512'),
    wireString(sig)
  );
  const b64 = Buffer.from(blob).toString('base64');
  const lines = b64.match(/.{1,70}/g) ?? [];
  return `${BEGIN}\n${lines.join('\n')}\n${END}\n`;
}

export interface VerifiedSignature {
  /** The signer's public key as the signature carries it. */
  publicKey: SshPublicKey;
  /** `SHA256:…`, as `ssh-keygen -l` prints it. */
  fingerprint: string;
}

/**
 * Verifies an armored SSHSIG over `message` in `namespace`. Any defect (format, namespace,
 * algorithm, a signature that does not verify) is `BAD_SIGNATURE`. Says nothing about
 * whether the signer is trusted: that is the allowed-signers check.
 */
export function sshsigVerify(
  armored: string,
  message: Uint8Array,
  namespace: string
): VerifiedSignature {
  const start = armored.indexOf(BEGIN);
  const end = armored.indexOf(END);
  if (start < 0 || end < start)
    throw fail('BAD_SIGNATURE', 'The signature is not an SSH signature');
  let blob: Uint8Array;
  try {
    blob = decodeBase64Strict(
      armored.slice(start + BEGIN.length, end).replace(/\s+/g, ''),
      'SSH signature'
    );
  } catch {
    throw fail('BAD_SIGNATURE', 'The signature is not valid base64');
  }
  try {
    return verifyBlob(blob, message, namespace);
  } catch (e) {
    if ((e as { code?: string }).code === 'BAD_SIGNATURE') throw e;
    throw fail('BAD_SIGNATURE', 'The signature is malformed');
  }
}

function verifyBlob(blob: Uint8Array, message: Uint8Array, namespace: string): VerifiedSignature {
  const r = new WireReader(blob, 'SSH signature');
  const magic = r.raw(6);
  if (new TextDecoder().decode(magic) !== 'SSHSIG' || r.u32() !== 1) {
    throw fail('BAD_SIGNATURE', 'Not an SSHSIG version 1 signature');
  }
  const publicKey = parsePublicKeyBlob(Uint8Array.from(r.bytes()));
  const ns = r.string();
  r.bytes(); // reserved
  const hashAlg = r.string();
  const sig = new WireReader(r.bytes(), 'SSH signature');
  if (ns !== namespace) {
    throw fail(
      'BAD_SIGNATURE',
      `The signature is for namespace "${ns.slice(0, 60)}", not ${namespace}`
    );
  }
  const data = signedData(namespace, hashAlg, message);
  const sigType = sig.string();
  const sigBytes = sig.bytes();
  let ok = false;
  if (publicKey.type === 'ssh-ed25519' && sigType === 'ssh-ed25519') {
    ok = sigBytes.length === 64 && ed25519.verify(sigBytes, data, publicKey.key);
  } else if (publicKey.type === 'ssh-rsa' && sigType === 'rsa-sha2-512') {
    ok = PKCS1_SHA512.verify({ n: publicKey.n, e: publicKey.e }, data, sigBytes);
  } else if (publicKey.type === 'ssh-rsa' && sigType === 'rsa-sha2-256') {
    ok = PKCS1_SHA256.verify({ n: publicKey.n, e: publicKey.e }, data, sigBytes);
  } else {
    // ssh-keygen refuses SHA-1 "ssh-rsa" signatures for SSHSIG too.
    throw fail('BAD_SIGNATURE', `Signature algorithm ${sigType.slice(0, 30)} is not accepted`);
  }
  if (!ok) throw fail('BAD_SIGNATURE', 'The signature does not match the signed data');
  return { publicKey, fingerprint: sshFingerprint(publicKey) };
}
