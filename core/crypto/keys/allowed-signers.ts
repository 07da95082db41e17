/**
 * `ssh-keygen`'s allowed-signers file (ssh-keygen(1), "ALLOWED SIGNERS"): one line per key,
 * `PRINCIPALS [OPTIONS] KEYTYPE BASE64 [COMMENT]`, with the options `namespaces="…"`,
 * `valid-after=`, `valid-before=` and `cert-authority`. Certificates are not supported, so a
 * `cert-authority` line never matches a plain key (as in ssh-keygen).
 */
import { fail } from '../../api/errors.js';
import { parsePublicKeyLine, sameKey, splitFields, type SshPublicKey } from './ssh-public-key.js';

export interface AllowedSigner {
  principals: string[];
  key: SshPublicKey;
  namespaces?: string[];
  validAfter?: Date;
  validBefore?: Date;
  certAuthority: boolean;
}

/** Parses the file; malformed lines are refused with their line number. */
export function parseAllowedSigners(text: string): AllowedSigner[] {
  const out: AllowedSigner[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    try {
      out.push(parseLine(line));
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw fail('INVALID_ARGUMENT', `allowed-signers line ${i + 1}: ${msg}`);
    }
  });
  return out;
}

function parseLine(line: string): AllowedSigner {
  const fields = splitFields(line);
  const principals = unquote(fields[0] ?? '')
    .split(',')
    .filter(Boolean);
  if (principals.length === 0) throw new Error('no principals');
  const keyAt = fields.findIndex((f, i) => i > 0 && /^(ssh-|ecdsa-|sk-)/.test(f));
  if (keyAt < 0) throw new Error('no key');
  const opts = fields.slice(1, keyAt).join(' ');
  const key = parsePublicKeyLine(fields.slice(keyAt).join(' '));
  if (!key) throw new Error('no key');
  const signer: AllowedSigner = { principals, key, certAuthority: false };
  for (const opt of splitOptions(opts)) {
    const eq = opt.indexOf('=');
    const name = (eq < 0 ? opt : opt.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? '' : unquote(opt.slice(eq + 1));
    if (name === 'cert-authority') signer.certAuthority = true;
    else if (name === 'namespaces') signer.namespaces = value.split(',').filter(Boolean);
    else if (name === 'valid-after') signer.validAfter = parseTime(value);
    else if (name === 'valid-before') signer.validBefore = parseTime(value);
    else throw new Error(`unknown option ${name}`);
  }
  return signer;
}

function splitOptions(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function unquote(s: string): string {
  return s.startsWith('"') && s.endsWith('"') && s.length >= 2 ? s.slice(1, -1) : s;
}

/** `YYYYMMDD[HHMM[SS]][Z]`: local time unless it ends in Z, as ssh-keygen reads it. */
function parseTime(s: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?(Z)?$/.exec(s);
  if (!m) throw new Error(`bad time ${s.slice(0, 20)}`);
  const [, y, mo, d, h = '0', mi = '0', sec = '0', z] = m;
  const parts = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec)] as const;
  return z ? new Date(Date.UTC(...parts)) : new Date(...parts);
}

/** Matches an OpenSSH pattern (`*`, `?`; `!` negates; ssh's match_pattern_list). */
export function matchPatternList(value: string, patterns: string[]): boolean {
  let matched = false;
  for (const p of patterns) {
    const neg = p.startsWith('!');
    const body = neg ? p.slice(1) : p;
    const re = new RegExp(
      `^${body
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`
    );
    if (re.test(value)) {
      if (neg) return false;
      matched = true;
    }
  }
  return matched;
}

/**
 * The principals allowed to sign with `key` in `namespace` at `now`, from every matching
 * line; empty when the key is not trusted there.
 */
export function trustedPrincipals(
  signers: AllowedSigner[],
  key: SshPublicKey,
  namespace: string,
  now = new Date()
): string[] {
  const out: string[] = [];
  for (const s of signers) {
    if (s.certAuthority || !sameKey(s.key, key)) continue;
    if (s.namespaces && !matchPatternList(namespace, s.namespaces)) continue;
    if (s.validAfter && now < s.validAfter) continue;
    if (s.validBefore && now > s.validBefore) continue;
    out.push(...s.principals);
  }
  return out;
}
