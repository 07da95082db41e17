/**
 * SSH public keys as `ssh-keygen` writes them (`TYPE BASE64 [COMMENT]`, RFC 4253 §6.6 blobs)
 * and as `authorized_keys` lists them (options before the type, sshd(8) "AUTHORIZED_KEYS
 * FILE FORMAT"). Only the two types bundles use: `ssh-ed25519` and `ssh-rsa`.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { fail } from '../../api/errors.js';
import { WireReader, concatBytes, sameBytes, wireMpint, wireString } from './ssh-wire.js';

export type SshPublicKey =
  | { type: 'ssh-ed25519'; key: Uint8Array; blob: Uint8Array; comment: string }
  | { type: 'ssh-rsa'; n: bigint; e: bigint; blob: Uint8Array; comment: string };

/** The key types bundles accept. */
export const SSH_KEY_TYPES = ['ssh-ed25519', 'ssh-rsa'] as const;

/** Smallest RSA modulus accepted, as OpenSSH 9 refuses smaller ones (1024 bits). */
const MIN_RSA_BITS = 1024;

/** Decodes a public key blob (RFC 4253 §6.6; RFC 8709 §4 for ed25519). */
export function parsePublicKeyBlob(blob: Uint8Array, comment = ''): SshPublicKey {
  const r = new WireReader(blob, 'SSH public key');
  const type = r.string();
  if (type === 'ssh-ed25519') {
    const key = r.bytes();
    if (key.length !== 32 || r.remaining() !== 0)
      throw fail('CORRUPT', 'ssh-ed25519 key is malformed');
    return { type, key: Uint8Array.from(key), blob: Uint8Array.from(blob), comment };
  }
  if (type === 'ssh-rsa') {
    const e = r.mpint();
    const n = r.mpint();
    if (r.remaining() !== 0) throw fail('CORRUPT', 'ssh-rsa key is malformed');
    if (n.toString(2).length < MIN_RSA_BITS)
      throw fail('UNSUPPORTED_FEATURE', `RSA keys under ${MIN_RSA_BITS} bits are refused`);
    return { type, n, e, blob: Uint8Array.from(blob), comment };
  }
  throw fail('UNSUPPORTED_FEATURE', `SSH key type ${type.slice(0, 40)} is not supported`);
}

/** The wire blob of an ed25519 or RSA public key. */
export function ed25519Blob(key: Uint8Array): Uint8Array {
  return concatBytes(wireString('ssh-ed25519'), wireString(key));
}
export function rsaBlob(n: bigint, e: bigint): Uint8Array {
  return concatBytes(wireString('ssh-rsa'), wireMpint(e), wireMpint(n));
}

/**
 * One line of a public key file or of `authorized_keys`: `[OPTIONS] TYPE BASE64 [COMMENT]`.
 * Returns null for blank and `#` lines. Options (quoted values may hold spaces) are skipped.
 */
export function parsePublicKeyLine(line: string): SshPublicKey | null {
  const t = line.trim();
  if (t === '' || t.startsWith('#')) return null;
  const fields = splitFields(t);
  const at = fields.findIndex((f) => /^(ssh-|ecdsa-|sk-)/.test(f));
  if (at < 0 || fields[at + 1] === undefined) {
    throw fail('INVALID_ARGUMENT', 'Not an SSH public key line (TYPE BASE64 [COMMENT])');
  }
  const type = fields[at]!;
  if (!(SSH_KEY_TYPES as readonly string[]).includes(type)) {
    throw fail('UNSUPPORTED_FEATURE', `SSH key type ${type} is not supported (ed25519 or RSA)`);
  }
  const blob = decodeBase64Strict(fields[at + 1]!, 'SSH public key');
  const key = parsePublicKeyBlob(blob, fields.slice(at + 2).join(' '));
  if (key.type !== type) throw fail('CORRUPT', `SSH key line says ${type} but holds ${key.type}`);
  return key;
}

/** `SHA256:…`, the fingerprint `ssh-keygen -l` prints. */
export function sshFingerprint(key: { blob: Uint8Array }): string {
  return `SHA256:${Buffer.from(sha256(key.blob)).toString('base64').replace(/=+$/, '')}`;
}

/** The public key as one `authorized_keys` line. */
export function formatPublicKey(key: SshPublicKey): string {
  const b64 = Buffer.from(key.blob).toString('base64');
  return key.comment ? `${key.type} ${b64} ${key.comment}` : `${key.type} ${b64}`;
}

/** Same key (type and material), comments aside. */
export function sameKey(a: { blob: Uint8Array }, b: { blob: Uint8Array }): boolean {
  return sameBytes(a.blob, b.blob);
}

/** Splits on spaces/tabs outside double quotes (authorized_keys options may quote spaces). */
export function splitFields(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '\\' && quoted && i + 1 < s.length) {
      cur += ch + s[++i];
    } else if (ch === '"') {
      quoted = !quoted;
      cur += ch;
    } else if ((ch === ' ' || ch === '\t') && !quoted) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

/** Standard base64 with optional padding; anything else is refused. */
export function decodeBase64Strict(s: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.replace(/=+$/, '').length % 4 === 1) {
    throw fail('CORRUPT', `${what} is not valid base64`);
  }
  return Uint8Array.from(Buffer.from(s, 'base64'));
}
