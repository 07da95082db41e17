/**
 * `serve --open` without the token on any command line (issue #13: argv is readable by every
 * local user through /proc). The browser is started on a local file, in a fresh folder only
 * we can read (0700) holding one 0600 page, that sends it on to the URL with the token; the
 * page is removed once the browser has had time to read it, and when the server stops.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The page: a meta refresh and a script, whichever the browser follows first. */
export function redirectPage(url: string): string {
  const u = JSON.stringify(url).replace(/</g, '\\u003c');
  const attr = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  return `<!doctype html><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<meta http-equiv="refresh" content="0;url=${attr}"><title>Image Vault</title>
<script>location.replace(${u})</script><p>Opening <a href="${attr}">Image Vault</a>…</p>\n`;
}

/**
 * Writes the page and starts `opener` (default xdg-open) on its path. Returns a cleanup that
 * removes it (also run by itself after `keepMs`).
 */
export async function openInBrowser(
  url: string,
  opts: { opener?: string; keepMs?: number } = {}
): Promise<{ page: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'image-vault-open-'));
  const page = join(dir, 'open.html');
  await writeFile(page, redirectPage(url), { mode: 0o600 });
  const cleanup = () => rm(dir, { recursive: true, force: true });
  spawn(opts.opener ?? 'xdg-open', [page], { stdio: 'ignore', detached: true })
    .on('error', () => undefined)
    .unref();
  setTimeout(() => void cleanup(), opts.keepMs ?? 60_000).unref();
  return { page, cleanup };
}
