/**
 * Strong generated passphrases: 8 groups of 5 characters from an unambiguous 32-symbol
 * alphabet = 200 bits, easy to read aloud or type from paper.
 */
import { randomBytes } from '../crypto/random.js';

const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'.padEnd(32, 'A');

export function randomPassphrase(groups = 8): string {
  const bytes = randomBytes(groups * 5);
  const chars = Array.from(bytes, (b) => ALPHABET[b & 31]);
  bytes.fill(0);
  const parts: string[] = [];
  for (let i = 0; i < groups; i++) parts.push(chars.slice(i * 5, i * 5 + 5).join(''));
  return parts.join('-');
}
