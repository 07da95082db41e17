/**
 * XML escaping for the libvirt snippets we generate (secret, disk, domain XML).
 *
 * Paths and descriptions come from users and file names, so every text node and attribute
 * value is escaped; characters XML 1.0 cannot carry at all are refused instead of dropped.
 */
import { fail } from '../api/errors.js';

// XML 1.0 Char production: TAB, LF, CR, U+0020..U+D7FF, U+E000..U+FFFD, U+10000..U+10FFFF.
// With the `u` flag a surrogate pair is one code point, so the range only catches lone halves.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/u;

function checkChars(value: string, what: string): void {
  if (FORBIDDEN.test(value)) {
    throw fail('INVALID_ARGUMENT', `${what} contains a character XML cannot represent`);
  }
}

/** Escapes a string for use as XML character data (between tags). */
export function escapeText(value: string, what = 'text'): string {
  checkChars(value, what);
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}

/**
 * Escapes a string for a single-quoted XML attribute value. Tabs and newlines are written as
 * character references so attribute-value normalisation does not turn them into spaces.
 */
export function escapeAttr(value: string, what = 'attribute'): string {
  checkChars(value, what);
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/'/g, '&apos;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}
