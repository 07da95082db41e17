/**
 * OpenSSH private keys (`-----BEGIN OPENSSH PRIVATE KEY-----`, OpenSSH's PROTOCOL.key), the
 * format `ssh-keygen` writes by default, for ed25519 and RSA. Encrypted keys are opened with
 * bcrypt_pbkdf (the `bcrypt-pbkdf` package) and AES-CTR, AES-CBC or AES-GCM (noble);
 * `chacha20-poly1305@openssh.com` and the old PEM/PKCS#8 formats (`ssh-keygen -m PEM`) are
 * refused by name. README "Bundles: keys and formats".
 */
import { pbkdf as bcryptPbkdf } from 'bcrypt-pbkdf';
import { cbc, ctr, gcm } from '@noble/ciphers/aes.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { fail } from '../../api/errors.js';
import { wipe } from '../secret.js';
import { WireReader, sameBytes } from './ssh-wire.js';
import {
  decodeBase64Strict,
  ed25519Blob,
  parsePublicKeyBlob,
  rsaBlob,
  type SshPublicKey,
} from './ssh-public-key.js';

export type SshPrivateKey =
  | { type: 'ssh-ed25519'; publicKey: SshPublicKey; seed: Uint8Array }
  | {
      type: 'ssh-rsa';
      publicKey: SshPublicKey;
      n: bigint;
      e: bigint;
      d: bigint;
    };

const BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----';
const END = '-----END OPENSSH PRIVATE KEY-----';
const MAGIC = 'openssh-key-v1\0';
/** bcrypt_pbkdf rounds above this are refused (ssh-keygen's default is 16; -a 100 is common). */
const MAX_ROUNDS = 10_000;

interface CipherSpec {
  keyLen: number;
  ivLen: number;
  tagLen: number;
  decrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array, tag: Uint8Array): Uint8Array;
}

const CIPHERS: Record<string, CipherSpec> = {};
for (const bits of [128, 192, 256]) {
  CIPHERS[`aes${bits}-ctr`] = {
    keyLen: bits / 8,
    ivLen: 16,
    tagLen: 0,
    decrypt: (k, iv, d) => ctr(k, iv).decrypt(d),
  };
  CIPHERS[`aes${bits}-cbc`] = {
    keyLen: bits / 8,
    ivLen: 16,
    tagLen: 0,
    decrypt: (k, iv, d) => cbc(k, iv, { disablePadding: true }).decrypt(d),
  };
}
for (const bits of [128, 256]) {
  CIPHERS[`aes${bits}-gcm@openssh.com`] = {
    keyLen: bits / 8,
    ivLen: 12,
    tagLen: 16,
    decrypt: (k, iv, d, tag) => {
      const joined = new Uint8Array(d.length + tag.length);
      joined.set(d);
      joined.set(tag, d.length);
      try {
        return gcm(k, iv).decrypt(joined);
      } catch {
        throw fail('WRONG_PASSPHRASE', 'Wrong passphrase for the SSH private key');
      }
    },
  };
}

/** True for text that holds an OpenSSH private key (encrypted or not). */
export function looksLikeOpenSshPrivateKey(text: string): boolean {
  return text.includes(BEGIN);
}

/** True when the OpenSSH private key in `text` needs a passphrase. */
export function isEncryptedPrivateKey(text: string): boolean {
  const r = new WireReader(decodeArmor(text), 'OpenSSH private key');
  r.raw(MAGIC.length);
  return r.string() !== 'none';
}

function decodeArmor(text: string): Uint8Array {
  if (/-----BEGIN (RSA|EC|DSA|ENCRYPTED)? ?PRIVATE KEY-----/.test(text)) {
    throw fail(
      'UNSUPPORTED_FEATURE',
      'PEM private keys are not supported: convert with ssh-keygen -p -f KEY (OpenSSH format)'
    );
  }
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start) throw fail('INVALID_ARGUMENT', 'Not an OpenSSH private key');
  const body = text.slice(start + BEGIN.length, end).replace(/\s+/g, '');
  const bytes = decodeBase64Strict(body, 'OpenSSH private key');
  if (new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) !== MAGIC) {
    throw fail('CORRUPT', 'OpenSSH private key has a wrong magic');
  }
  return bytes;
}

/**
 * Parses an OpenSSH private key. An encrypted key needs `passphrase` (`NEEDS_PASSPHRASE`
 * otherwise; a wrong one gives `WRONG_PASSPHRASE`: the two check words differ, PROTOCOL.key).
 */
export function parseOpenSshPrivateKey(text: string, passphrase?: Uint8Array): SshPrivateKey {
  const r = new WireReader(decodeArmor(text), 'OpenSSH private key');
  r.raw(MAGIC.length);
  const cipherName = r.string();
  const kdfName = r.string();
  const kdfOptions = r.bytes();
  const count = r.u32();
  if (count !== 1) throw fail('UNSUPPORTED_FEATURE', 'OpenSSH key files with several keys');
  const publicBlob = r.bytes();
  let section = r.bytes();
  const publicKey = parsePublicKeyBlob(publicBlob);
  let plain: Uint8Array | undefined;
  try {
    if (cipherName !== 'none') {
      const spec = CIPHERS[cipherName];
      if (!spec) {
        throw fail('UNSUPPORTED_FEATURE', `SSH key cipher ${cipherName.slice(0, 40)}`);
      }
      if (kdfName !== 'bcrypt') throw fail('UNSUPPORTED_FEATURE', `SSH key KDF ${kdfName}`);
      if (!passphrase) {
        throw fail('NEEDS_PASSPHRASE', 'The SSH private key is encrypted: give its passphrase');
      }
      const o = new WireReader(kdfOptions, 'bcrypt options');
      const salt = o.bytes();
      const rounds = o.u32();
      if (rounds < 1 || rounds > MAX_ROUNDS) {
        throw fail('UNSUPPORTED_FEATURE', `bcrypt rounds ${rounds} out of range`);
      }
      const tag = r.raw(spec.tagLen);
      const km = new Uint8Array(spec.keyLen + spec.ivLen);
      try {
        bcryptPbkdf(passphrase, passphrase.length, salt, salt.length, km, km.length, rounds);
        plain = spec.decrypt(
          km.subarray(0, spec.keyLen),
          km.subarray(spec.keyLen),
          Uint8Array.from(section),
          tag
        );
      } finally {
        wipe(km);
      }
      section = plain;
    } else if (kdfName !== 'none') {
      throw fail('CORRUPT', 'OpenSSH private key names a KDF but no cipher');
    }
    return parsePrivateSection(section, publicKey);
  } finally {
    wipe(plain);
  }
}

function parsePrivateSection(section: Uint8Array, publicKey: SshPublicKey): SshPrivateKey {
  const p = new WireReader(section, 'OpenSSH private key');
  if (p.u32() !== p.u32()) {
    throw fail('WRONG_PASSPHRASE', 'Wrong passphrase for the SSH private key');
  }
  const type = p.string();
  if (type !== publicKey.type) throw fail('CORRUPT', 'OpenSSH private key type mismatch');
  if (type === 'ssh-ed25519') {
    const pub = p.bytes();
    const priv = p.bytes();
    if (pub.length !== 32 || priv.length !== 64) throw fail('CORRUPT', 'ed25519 key lengths');
    const seed = Uint8Array.from(priv.subarray(0, 32));
    if (
      !sameBytes(ed25519.getPublicKey(seed), pub) ||
      !sameBytes(ed25519Blob(pub), publicKey.blob)
    ) {
      wipe(seed);
      throw fail('CORRUPT', 'The ed25519 private key does not match its public key');
    }
    return { type, publicKey, seed };
  }
  const n = p.mpint();
  const e = p.mpint();
  const d = p.mpint();
  if (!sameBytes(rsaBlob(n, e), publicKey.blob)) {
    throw fail('CORRUPT', 'The RSA private key does not match its public key');
  }
  return { type: 'ssh-rsa', publicKey, n, e, d };
}

/** Zero-fills what can be wiped (JavaScript bigints cannot; README notes it). */
export function wipePrivateKey(k: SshPrivateKey | undefined): void {
  if (k?.type === 'ssh-ed25519') wipe(k.seed);
}
