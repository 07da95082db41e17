/**
 * Key files for bundles (README "Bundles: keys and formats"): the identity that opens a
 * sealed bundle, the SSH key that signs one, the user's own key pairs for the app to offer,
 * and fingerprints for the UI's summary. Key material stays in core; faces see fingerprints.
 */
import { readFile, readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fail, isVaultError, toVaultError } from '../api/errors.js';
import type {
  DescribeKeysRequest,
  KeyDescription,
  KeyInfo,
  OwnKey,
  Passphrase,
} from '../api/types.js';
import { parseIdentityFile, parseRecipients, type OpenIdentity } from '../crypto/keys/age-seal.js';
import {
  isEncryptedPrivateKey,
  looksLikeOpenSshPrivateKey,
  parseOpenSshPrivateKey,
  type SshPrivateKey,
} from '../crypto/keys/ssh-private-key.js';
import { parsePublicKeyLine, sshFingerprint } from '../crypto/keys/ssh-public-key.js';

/** `~/.ssh/id_ed25519`, the identity `bundle import` tries when none is given. */
export function defaultIdentityFile(): string {
  return join(homedir(), '.ssh', 'id_ed25519');
}

/** Largest key file read (an RSA-16384 OpenSSH key is ~12 KiB). */
const MAX_KEY_FILE = 256 * 1024;

async function readKeyFile(path: string, what: string): Promise<string> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    const err = toVaultError(e);
    if (err.code === 'NOT_FOUND') throw fail('NOT_FOUND', `${what} not found: ${path}`);
    throw err;
  }
  if (buf.length > MAX_KEY_FILE) throw fail('INVALID_ARGUMENT', `${what} is too large: ${path}`);
  const text = buf.toString('utf8');
  buf.fill(0);
  return text;
}

/** The identities in an age identity file or OpenSSH private key. */
export async function loadIdentities(
  path: string,
  passphrase?: Passphrase
): Promise<OpenIdentity[]> {
  return parseIdentityFile(await readKeyFile(path, 'Identity file'), passphrase);
}

/** An OpenSSH private key that signs (ed25519 or RSA). */
export async function loadSigningKey(
  path: string,
  passphrase?: Passphrase
): Promise<SshPrivateKey> {
  const text = await readKeyFile(path, 'Signing key');
  if (!looksLikeOpenSshPrivateKey(text)) {
    throw fail('INVALID_ARGUMENT', `The signing key is not an OpenSSH private key: ${path}`);
  }
  return parseOpenSshPrivateKey(text, passphrase);
}

/** The recipients' fingerprints and a private key's, as the export summary shows them. */
export async function describeKeys(req: DescribeKeysRequest): Promise<KeyDescription> {
  const publicKeyText = req.publicKeyFile
    ? (await readKeyFile(req.publicKeyFile, 'Public key file'))
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'))
        .join('\n')
    : undefined;
  const lines = [req.recipients, publicKeyText].filter(Boolean).join('\n');
  const recipients: KeyInfo[] = lines
    ? parseRecipients(lines).map((r) => ({
        type: r.type,
        fingerprint: r.fingerprint,
        ...(r.comment ? { comment: r.comment } : {}),
      }))
    : [];
  if (!req.privateKey)
    return publicKeyText === undefined ? { recipients } : { recipients, publicKeyText };
  const text = await readKeyFile(req.privateKey, 'Key file');
  if (looksLikeOpenSshPrivateKey(text)) {
    const pubText = await readFile(`${req.privateKey}.pub`, 'utf8').catch(() => undefined);
    const encrypted = isEncryptedPrivateKey(text);
    const pub = pubText ? parsePublicKeyLine(pubText.split('\n')[0] ?? '') : null;
    const key = pub ?? (encrypted ? null : parseOpenSshPrivateKey(text).publicKey);
    if (!key) {
      return {
        recipients,
        privateKey: { type: 'ssh', fingerprint: 'unknown until unlocked', encrypted },
      };
    }
    return {
      recipients,
      privateKey: {
        type: key.type,
        fingerprint: sshFingerprint(key),
        ...(key.comment ? { comment: key.comment } : {}),
        encrypted,
      },
    };
  }
  const ids = parseIdentityFile(text);
  const first = ids[0]!.recipient;
  ids.forEach((i) => i.dispose());
  return {
    recipients,
    privateKey: { type: first.type, fingerprint: first.fingerprint, encrypted: false },
  };
}

/** Key pairs in ~/.ssh (NAME + NAME.pub, ed25519 or RSA) and ~/.config/age/keys.txt. */
export async function listOwnKeys(home = homedir()): Promise<OwnKey[]> {
  const out: OwnKey[] = [];
  const sshDir = join(home, '.ssh');
  const names = await readdir(sshDir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.endsWith('.pub')).sort()) {
    const privatePath = join(sshDir, name.slice(0, -4));
    try {
      const pubLine = (await readFile(join(sshDir, name), 'utf8')).split('\n')[0]!.trim();
      const pub = parsePublicKeyLine(pubLine);
      const text = await readKeyFile(privatePath, 'Key file');
      if (!pub || !looksLikeOpenSshPrivateKey(text)) continue;
      out.push({
        type: pub.type,
        fingerprint: sshFingerprint(pub),
        ...(pub.comment ? { comment: pub.comment } : {}),
        privatePath,
        publicLine: pubLine,
        encrypted: isEncryptedPrivateKey(text),
      });
    } catch (e) {
      if (!isVaultError(e)) throw e;
      // Unsupported key types (ecdsa, sk-…) and unreadable files are not offered.
    }
  }
  const agePath = join(home, '.config', 'age', 'keys.txt');
  const ageText = await readFile(agePath, 'utf8').catch(() => undefined);
  if (ageText !== undefined) {
    try {
      const ids = parseIdentityFile(ageText);
      const r = ids[0]!.recipient;
      ids.forEach((i) => i.dispose());
      out.push({
        type: r.type,
        fingerprint: r.fingerprint,
        privatePath: agePath,
        publicLine: r.fingerprint,
        encrypted: false,
      });
    } catch {
      // Not an identity file we read: not offered.
    }
  }
  return out;
}
