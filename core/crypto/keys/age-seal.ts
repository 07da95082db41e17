/**
 * Sealing a bundle's secret to its recipients in the age format (age-encryption.org/v1): the
 * file header, MAC and payload come from the `age-encryption` package; the three recipient
 * types bundles use are implemented here on noble so nothing reaches WebCrypto or
 * `node:crypto` (Electron's BoringSSL, docs/DESIGN.md constraint 2):
 * - `X25519` (`age1…` recipients, `AGE-SECRET-KEY-1…` identities),
 * - `ssh-ed25519` (the key converted to X25519 and tweaked, as age's agessh package does),
 * - `ssh-rsa` (RSA-OAEP-SHA256 with label `age-encryption.org/v1/ssh-rsa`, micro-rsa-dsa-dh).
 * Real `age -d -i KEY` opens what this seals, and what `age -r` seals opens here (tests).
 */
import { Decrypter, Encrypter, Stanza, type Identity, type Recipient } from 'age-encryption';
import { bech32, base64nopad } from '@scure/base';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { OAEP, mgf1 } from 'micro-rsa-dsa-dh/rsa.js';
import { fail, isVaultError } from '../../api/errors.js';
import { randomBytes } from '../random.js';
import { wipe } from '../secret.js';
import { parsePublicKeyLine, sshFingerprint, type SshPublicKey } from './ssh-public-key.js';
import {
  looksLikeOpenSshPrivateKey,
  parseOpenSshPrivateKey,
  type SshPrivateKey,
} from './ssh-private-key.js';

const X25519_LABEL = new TextEncoder().encode('age-encryption.org/v1/X25519');
const ED25519_LABEL = new TextEncoder().encode('age-encryption.org/v1/ssh-ed25519');
const RSA_LABEL = new TextEncoder().encode('age-encryption.org/v1/ssh-rsa');
const ZERO_NONCE = new Uint8Array(12);

/** A recipient a secret can be sealed to, with what the UI shows for it. */
export interface SealRecipient extends Recipient {
  type: 'X25519' | 'ssh-ed25519' | 'ssh-rsa';
  /** `age1…` for native keys, `SHA256:…` for SSH keys. */
  fingerprint: string;
  /** The SSH key's comment, when there is one. */
  comment?: string;
}

function aeadSeal(key: Uint8Array, fileKey: Uint8Array): Uint8Array {
  return chacha20poly1305(key, ZERO_NONCE).encrypt(fileKey);
}
function aeadOpen(key: Uint8Array, body: Uint8Array): Uint8Array | null {
  try {
    return chacha20poly1305(key, ZERO_NONCE).decrypt(body);
  } catch {
    return null;
  }
}

function x25519Shared(scalar: Uint8Array, point: Uint8Array): Uint8Array {
  const s = x25519.scalarMult(scalar, point);
  if (s.every((b) => b === 0)) throw fail('CORRUPT', 'age stanza has a low-order point');
  return s;
}

/** The 4-byte SSH key tag age puts in ssh stanzas: SHA-256 of the key blob, truncated. */
function sshTag(blob: Uint8Array): string {
  return base64nopad.encode(sha256(blob).subarray(0, 4));
}

/** An `age1…` recipient. */
export function x25519Recipient(publicKey: Uint8Array): SealRecipient {
  return {
    type: 'X25519',
    fingerprint: bech32.encodeFromBytes('age', publicKey),
    wrapFileKey(fileKey) {
      const eph = randomBytes(32);
      try {
        const share = x25519.scalarMultBase(eph);
        const key = hkdf(
          sha256,
          x25519Shared(eph, publicKey),
          concat(share, publicKey),
          X25519_LABEL,
          32
        );
        return [new Stanza(['X25519', base64nopad.encode(share)], aeadSeal(key, fileKey))];
      } finally {
        wipe(eph);
      }
    },
  };
}

/** An SSH public key as an age recipient (ssh-ed25519 or ssh-rsa stanza). */
export function sshRecipient(pk: SshPublicKey): SealRecipient {
  const base = { fingerprint: sshFingerprint(pk), ...(pk.comment ? { comment: pk.comment } : {}) };
  if (pk.type === 'ssh-rsa') {
    const oaep = OAEP(sha256, mgf1(sha256), RSA_LABEL);
    return {
      type: 'ssh-rsa',
      ...base,
      wrapFileKey: (fileKey) => [
        new Stanza(['ssh-rsa', sshTag(pk.blob)], oaep.encrypt({ n: pk.n, e: pk.e }, fileKey)),
      ],
    };
  }
  const theirs = ed25519.utils.toMontgomery(pk.key);
  const tweak = hkdf(sha256, new Uint8Array(0), pk.blob, ED25519_LABEL, 32);
  return {
    type: 'ssh-ed25519',
    ...base,
    wrapFileKey(fileKey) {
      const eph = randomBytes(32);
      try {
        const share = x25519.scalarMultBase(eph);
        const shared = x25519Shared(tweak, x25519Shared(eph, theirs));
        const key = hkdf(sha256, shared, concat(share, theirs), ED25519_LABEL, 32);
        return [
          new Stanza(
            ['ssh-ed25519', sshTag(pk.blob), base64nopad.encode(share)],
            aeadSeal(key, fileKey)
          ),
        ];
      } finally {
        wipe(eph);
      }
    },
  };
}

/**
 * Parses recipients: `age1…` strings and SSH public key lines (`authorized_keys` lines with
 * options too), one per line; blank and `#` lines are skipped. At least one is required.
 */
export function parseRecipients(text: string): SealRecipient[] {
  const out: SealRecipient[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('age1')) {
      let bytes: Uint8Array;
      try {
        const d = bech32.decodeToBytes(line);
        if (d.prefix !== 'age' || d.bytes.length !== 32) throw new Error('prefix');
        bytes = d.bytes;
      } catch {
        throw fail('INVALID_ARGUMENT', `Not a valid age recipient: ${line.slice(0, 70)}`);
      }
      out.push(x25519Recipient(bytes));
      continue;
    }
    const pk = parsePublicKeyLine(line);
    if (pk) out.push(sshRecipient(pk));
  }
  if (out.length === 0)
    throw fail('INVALID_ARGUMENT', 'No recipient given (age1… or an SSH public key)');
  return out;
}

/** An identity that opens sealed secrets, and the recipient that seals to it again. */
export interface OpenIdentity extends Identity {
  recipient: SealRecipient;
  /** Wipes what JavaScript lets us wipe. */
  dispose(): void;
}

function x25519Identity(scalar: Uint8Array): OpenIdentity {
  const pub = x25519.scalarMultBase(scalar);
  return {
    recipient: x25519Recipient(pub),
    unwrapFileKey(stanzas) {
      for (const s of stanzas) {
        if (s.args[0] !== 'X25519') continue;
        if (s.args.length !== 2) throw fail('CORRUPT', 'Malformed X25519 stanza');
        const share = base64nopad.decode(s.args[1]!);
        if (share.length !== 32) throw fail('CORRUPT', 'Malformed X25519 stanza');
        const key = hkdf(sha256, x25519Shared(scalar, share), concat(share, pub), X25519_LABEL, 32);
        const fk = aeadOpen(key, s.body);
        if (fk) return fk;
      }
      return null;
    },
    dispose: () => wipe(scalar),
  };
}

function sshIdentity(k: SshPrivateKey): OpenIdentity {
  const recipient = sshRecipient(k.publicKey);
  const tag = sshTag(k.publicKey.blob);
  if (k.type === 'ssh-rsa') {
    const oaep = OAEP(sha256, mgf1(sha256), RSA_LABEL);
    return {
      recipient,
      unwrapFileKey(stanzas) {
        for (const s of stanzas) {
          if (s.args[0] !== 'ssh-rsa' || s.args[1] !== tag) continue;
          try {
            return oaep.decrypt({ n: k.n, d: k.d }, s.body);
          } catch {
            throw fail('CORRUPT', 'The ssh-rsa stanza for this key does not decrypt');
          }
        }
        return null;
      },
      dispose: () => undefined,
    };
  }
  const mine = ed25519.utils.toMontgomerySecret(k.seed);
  const ourPub = x25519.scalarMultBase(mine);
  const tweak = hkdf(sha256, new Uint8Array(0), k.publicKey.blob, ED25519_LABEL, 32);
  return {
    recipient,
    unwrapFileKey(stanzas) {
      for (const s of stanzas) {
        if (s.args[0] !== 'ssh-ed25519' || s.args[1] !== tag) continue;
        if (s.args.length !== 3) throw fail('CORRUPT', 'Malformed ssh-ed25519 stanza');
        const share = base64nopad.decode(s.args[2]!);
        if (share.length !== 32) throw fail('CORRUPT', 'Malformed ssh-ed25519 stanza');
        const shared = x25519Shared(tweak, x25519Shared(mine, share));
        const fk = aeadOpen(hkdf(sha256, shared, concat(share, ourPub), ED25519_LABEL, 32), s.body);
        if (!fk) throw fail('CORRUPT', 'The ssh-ed25519 stanza for this key does not decrypt');
        return fk;
      }
      return null;
    },
    dispose: () => {
      wipe(mine);
      wipe(k.seed);
    },
  };
}

/**
 * Reads an identity file: `AGE-SECRET-KEY-1…` lines (what `age-keygen` writes) or an OpenSSH
 * private key (`passphrase` for an encrypted one). `NEEDS_PASSPHRASE`/`WRONG_PASSPHRASE` come
 * from the SSH key; anything else unreadable is `INVALID_ARGUMENT`.
 */
export function parseIdentityFile(text: string, passphrase?: Uint8Array): OpenIdentity[] {
  if (looksLikeOpenSshPrivateKey(text))
    return [sshIdentity(parseOpenSshPrivateKey(text, passphrase))];
  const out: OpenIdentity[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (!line.startsWith('AGE-SECRET-KEY-1')) {
      throw fail(
        'INVALID_ARGUMENT',
        'The identity file holds neither an age identity nor an OpenSSH private key'
      );
    }
    try {
      const d = bech32.decodeToBytes(line.toLowerCase());
      if (d.prefix !== 'age-secret-key-' || d.bytes.length !== 32) throw new Error('prefix');
      out.push(x25519Identity(Uint8Array.from(d.bytes)));
      wipe(d.bytes);
    } catch {
      throw fail('INVALID_ARGUMENT', 'The identity file has a malformed AGE-SECRET-KEY line');
    }
  }
  if (out.length === 0) throw fail('INVALID_ARGUMENT', 'The identity file holds no identity');
  return out;
}

/** Seals `secret` to every recipient (one age file, binary). */
export async function sealSecret(
  secret: Uint8Array,
  recipients: SealRecipient[]
): Promise<Uint8Array> {
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  return e.encrypt(secret);
}

/**
 * Opens a sealed secret. `WRONG_IDENTITY` when none of the identities is a recipient;
 * `CORRUPT` when the file is damaged (bad header, MAC or payload).
 */
export async function unsealSecret(
  sealed: Uint8Array,
  identities: OpenIdentity[]
): Promise<Uint8Array> {
  const d = new Decrypter();
  for (const i of identities) d.addIdentity(i);
  try {
    return await d.decrypt(sealed);
  } catch (e) {
    if (isVaultError(e)) throw e;
    const msg = e instanceof Error ? e.message : '';
    if (/no identity matched/.test(msg)) {
      throw fail('WRONG_IDENTITY', 'This key is not one the secret was sealed to');
    }
    throw fail('CORRUPT', 'The sealed secret is damaged (age header or payload does not verify)');
  }
}

/** The recipients named in a sealed file's header (types and SSH key tags), for display. */
export function stanzaTypes(sealed: Uint8Array): string[] {
  const text = new TextDecoder().decode(sealed.subarray(0, Math.min(sealed.length, 64 * 1024)));
  return [...text.matchAll(/^-> (\S+)/gm)].map((m) => m[1]!);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
