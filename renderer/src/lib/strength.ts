/**
 * A small zxcvbn-style passphrase strength estimate (docs/design/ux-anchors.md §1: meter + block weak
 * unless "use anyway"). Conservative: estimates guessing entropy in bits, then a 0–4 score.
 */

export interface Strength {
  score: 0 | 1 | 2 | 3 | 4;
  label: string;
  bits: number;
  hint: string;
}

const COMMON =
  /^(password|passwort|qwerty|letmein|welcome|admin|changeme|secret|123456|abc123|iloveyou)/i;
const LABELS = ['Very weak', 'Weak', 'Fair', 'Strong', 'Very strong'] as const;

/** Estimates the strength of a passphrase typed by a person. */
export function estimateStrength(text: string): Strength {
  if (!text)
    return { score: 0, label: 'Empty', bits: 0, hint: 'Type a passphrase or generate one.' };
  let pool = 0;
  if (/[a-z]/.test(text)) pool += 26;
  if (/[A-Z]/.test(text)) pool += 26;
  if (/[0-9]/.test(text)) pool += 10;
  if (/[^A-Za-z0-9]/.test(text)) pool += 33;
  // Count only "fresh" characters: repeats and simple sequences add little.
  let effective = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const prev = text.charCodeAt(i - 1);
    if (i > 0 && (c === prev || c === prev + 1 || c === prev - 1)) effective += 0.25;
    else effective += 1;
  }
  let bits = effective * Math.log2(Math.max(pool, 2));
  const words = text.split(/[\s\-_.]+/).filter((w) => w.length >= 3);
  if (words.length >= 4) bits = Math.max(bits, words.length * 11);
  if (COMMON.test(text)) bits = Math.min(bits, 12);
  const score = (
    bits < 28 ? 0 : bits < 40 ? 1 : bits < 60 ? 2 : bits < 80 ? 3 : 4
  ) as Strength['score'];
  const hint =
    score >= 3
      ? 'Good. Keep it somewhere safe: it cannot be recovered.'
      : text.length < 12
        ? 'Make it longer: four or more random words work well.'
        : 'Avoid repeats and common words; add more unrelated words.';
  return { score, label: LABELS[score], bits: Math.round(bits), hint };
}
