/** POSIX shell quoting for the human steps we print (paths, URIs); never used for secrets. */

/** Quotes `value` for a POSIX shell when it contains anything beyond a safe set. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
