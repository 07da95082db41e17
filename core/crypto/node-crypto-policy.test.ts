/**
 * docs/DESIGN.md constraint 2: core may use from `node:crypto` only aes-{128,192,256}-{ecb,cbc},
 * pbkdf2 with sha1/sha256/sha512, createHash sha1/sha256/sha512, randomBytes/randomFillSync
 * and timingSafeEqual (Electron's BoringSSL lacks the rest). This test scans every non-test
 * `core/**\/*.ts` file and fails on anything else.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const ALLOWED_VALUES = new Set([
  'createCipheriv',
  'createDecipheriv',
  'pbkdf2',
  'pbkdf2Sync',
  'createHash',
  'randomBytes',
  'randomFillSync',
  'timingSafeEqual',
]);
const ALLOWED_CIPHERS = new Set(
  ['128', '192', '256'].flatMap((b) => [`aes-${b}-ecb`, `aes-${b}-cbc`])
);
const ALLOWED_HASHES = new Set(['sha1', 'sha256', 'sha512']);
/** `node:crypto` itself, or core's one door to it (core/crypto/node-crypto.ts). */
const CRYPTO_MODULE = `['"](?:(?:node:)?crypto|(?:\\.{1,2}/)+(?:crypto/)?node-crypto\\.js)['"]`;
const DOOR = 'node-crypto.ts';

/** Top-level comma-separated argument texts of the call whose '(' is at `open`. */
function callArgs(src: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  let quote = '';
  for (let i = open; i < src.length; i++) {
    const ch = src[i] as string;
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = '';
      continue;
    }
    if (ch === '"' || ch === "'" || ch === '`') quote = ch;
    else if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) {
        args.push(src.slice(start, i).trim());
        return args.filter((a) => a !== '');
      }
    } else if (ch === ',' && depth === 1) {
      args.push(src.slice(start, i).trim());
      start = i + 1;
    }
  }
  return args;
}

function literal(arg: string | undefined): string | undefined {
  const m = /^(['"])([^'"\\]*)\1$/.exec(arg ?? '');
  return m?.[2];
}

/** Returns a list of violations in one source text. */
export function scanSource(src: string): string[] {
  const problems: string[] = [];
  // Local name → node:crypto export name, for value imports.
  const imported = new Map<string, string>();
  const importRe = new RegExp(`import\\s+([^;]*?)\\s+from\\s+${CRYPTO_MODULE}`, 'g');
  for (const m of src.matchAll(importRe)) {
    const clause = (m[1] as string).trim();
    if (clause.startsWith('type ')) continue;
    const braces = /\{([\s\S]*)\}/.exec(clause);
    const outside = clause
      .replace(/\{[\s\S]*\}/, '')
      .replace(/,/g, '')
      .trim();
    if (outside) problems.push(`namespace/default import of node:crypto (${outside})`);
    for (const spec of (braces?.[1] ?? '').split(',')) {
      const s = spec.trim();
      if (!s || s.startsWith('type ')) continue;
      const [name, alias] = s.split(/\s+as\s+/) as [string, string | undefined];
      if (!ALLOWED_VALUES.has(name)) problems.push(`node:crypto import ${name} is not allowed`);
      imported.set(alias ?? name, name);
    }
  }
  if (new RegExp(`require\\(\\s*${CRYPTO_MODULE}\\s*\\)`).test(src)) {
    problems.push('require() of node:crypto');
  }
  if (new RegExp(`import\\(\\s*${CRYPTO_MODULE}\\s*\\)`).test(src)) {
    problems.push('dynamic import() of node:crypto');
  }
  if (new RegExp(`export\\s[\\s\\S]*?from\\s+${CRYPTO_MODULE}`).test(src)) {
    problems.push('re-export of node:crypto');
  }
  if (/\b(?:globalThis\.)?crypto\.(?:subtle|webcrypto|randomUUID|getRandomValues)\b/.test(src)) {
    problems.push('Web Crypto (crypto.subtle / randomUUID / getRandomValues)');
  }
  for (const [local, name] of imported) {
    const callRe = new RegExp(`(?<![\\w.$])${local.replace(/\$/g, '\\$')}\\s*\\(`, 'g');
    for (const m of src.matchAll(callRe)) {
      const args = callArgs(src, (m.index as number) + m[0].length - 1);
      const check = (arg: string | undefined, allowed: Set<string>, what: string) => {
        const lit = literal(arg);
        if (lit === undefined) problems.push(`${name}: ${what} must be a string literal (${arg})`);
        else if (!allowed.has(lit)) problems.push(`${name}('${lit}') is not allowed`);
      };
      if (name === 'createCipheriv' || name === 'createDecipheriv') {
        check(args[0], ALLOWED_CIPHERS, 'cipher');
      } else if (name === 'createHash') {
        check(args[0], ALLOWED_HASHES, 'hash');
      } else if (name === 'pbkdf2' || name === 'pbkdf2Sync') {
        check(args[4], ALLOWED_HASHES, 'digest');
      }
    }
  }
  return problems;
}

function coreFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : coreFiles(p);
    const source = e.name.endsWith('.ts') && !e.name.endsWith('.d.ts');
    return source && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/**
 * A folder of the TypeScript sources: this test also runs compiled from dist/, where only
 * `.js` and `.d.ts` files lie beside it, so it scans the repository's own sources.
 */
function sourceDir(name: string): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, name);
}

describe('node:crypto usage policy (docs/DESIGN.md constraint 2)', () => {
  it('core/**/*.ts (non-test) uses only the allowed node:crypto subset', () => {
    const core = sourceDir('core');
    const files = coreFiles(core).filter((f) => !f.endsWith(`crypto/${DOOR}`));
    assert.ok(files.length > 10, 'expected to find the core sources');
    const problems = files.flatMap((f) =>
      scanSource(readFileSync(f, 'utf8')).map((p) => `${relative(core, f)}: ${p}`)
    );
    assert.deepEqual(problems, []);
  });

  it('the door re-exports only the allowed names', () => {
    const src = readFileSync(join(sourceDir('core'), 'crypto', DOOR), 'utf8');
    const values = /export\s*\{([^}]*)\}\s*from\s*'node:crypto'/.exec(src)?.[1] ?? '';
    const names = values
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean);
    assert.ok(names.length >= 5, 'expected the door to export the primitives');
    for (const n of names) assert.ok(ALLOWED_VALUES.has(n), `${DOOR} exports ${n}`);
  });

  it('the scanner follows imports through the door', () => {
    const bad = `import { createCipheriv } from './node-crypto.js';\ncreateCipheriv('aes-256-xts', k, iv);`;
    assert.notDeepEqual(scanSource(bad), []);
    const bad2 = `import { createHash } from '../../crypto/node-crypto.js';\ncreateHash('md5');`;
    assert.notDeepEqual(scanSource(bad2), []);
  });

  it('the scanner catches forbidden uses', () => {
    const bad = [
      `import { createCipheriv } from 'node:crypto';\ncreateCipheriv('aes-256-xts', k, iv);`,
      `import { createDecipheriv as d } from 'crypto';\nd('aes-128-ctr', k, iv);`,
      `import { createHash } from 'node:crypto';\nconst h = createHash('ripemd160');`,
      `import { createHash } from 'node:crypto';\nconst h = createHash(name);`,
      `import { pbkdf2Sync } from 'node:crypto';\npbkdf2Sync(p, s, 1000, 32, 'sha384');`,
      `import { scrypt } from 'node:crypto';`,
      `import { hkdfSync } from 'node:crypto';`,
      `import { argon2 } from 'node:crypto';`,
      `import { createHmac, randomBytes } from 'node:crypto';`,
      `import * as crypto from 'node:crypto';`,
      `import crypto from 'crypto';`,
      `const c = require('node:crypto');`,
      `const c = await import('node:crypto');`,
      `export { createHash } from 'node:crypto';`,
      `const id = crypto.randomUUID();`,
      `await globalThis.crypto.subtle.digest('SHA-256', d);`,
    ];
    for (const src of bad) assert.notDeepEqual(scanSource(src), [], src);
  });

  it('the scanner accepts the allowed subset', () => {
    const good = `import { createCipheriv, createHash, pbkdf2Sync, type Cipher } from 'node:crypto';
      import type { Hash } from 'node:crypto';
      createCipheriv('aes-256-ecb', key, null);
      createCipheriv("aes-128-cbc", key, iv);
      createHash('sha512').update(x);
      pbkdf2Sync(pw, salt, iters, len, 'sha1');
      pbkdf2(h, pw, salt, 1000, 32); // our own pbkdf2, not node's`;
    assert.deepEqual(scanSource(good), []);
  });
});
