/** Passphrase generator: 24 characters from an unambiguous alphabet, in groups of four. */

const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Returns a random passphrase like `k7pm-x2qa-…` (~118 bits) using the Web Crypto RNG. */
export function generatePassphrase(groups = 6): string {
  const out: string[] = [];
  const bytes = new Uint8Array(groups * 4 * 2);
  crypto.getRandomValues(bytes);
  let k = 0;
  for (let g = 0; g < groups; g++) {
    let group = '';
    while (group.length < 4) {
      const b = bytes[k++ % bytes.length] ?? 0;
      // Rejection sampling keeps the distribution uniform.
      if (b < 248) group += ALPHABET[b % ALPHABET.length];
      else crypto.getRandomValues(bytes);
    }
    out.push(group);
  }
  bytes.fill(0);
  return out.join('-');
}
