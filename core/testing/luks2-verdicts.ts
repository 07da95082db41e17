/**
 * The harness of the LUKS2 verdict suites (core/formats/luks/luks2-validation*.interop.test.ts):
 * a header cryptsetup makes at test time, one case per defect (JSON edited, checksums
 * recomputed), and our verdict (inspect, keyslot test) judged against cryptsetup's.
 */
import assert from 'node:assert/strict';
import { copyFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isVaultError } from '../api/errors.js';
import type { ImageInfo } from '../api/types.js';
import { inspectImage } from '../service/inspect.js';
import { keyslotTest } from '../service/keyslots.js';
import { cryptsetupAddKey } from './luks-peers.js';
import {
  cryptsetupVerdict,
  editLuks2Json,
  fileSha256,
  readLuks2Json,
  type Json,
} from './luks2-edit.js';
import { passphraseFile, peerTestOptions, runOk, scratchDir } from './peers.js';

const enc = (s: string) => new TextEncoder().encode(s);
export const KS_SIZE = 2064384; // keyslots_size of the base image (data at 2 MiB)

export async function emptyFile(path: string, size: number): Promise<void> {
  await writeFile(path, '');
  await truncate(path, size);
}

export interface Case {
  name: string;
  make: (path: string, j: Json) => Promise<void>;
  /** cryptsetup's verdict: F refuses the header, R loads it. */
  cs: 'F' | 'R';
  /** For F: the message naming the defect. */
  refuse?: RegExp;
  /** Whether the base passphrase (keyslot 0) opens, when the header loads (default true). */
  opens?: boolean;
  check?: (info: ImageInfo) => void;
}

const json = (edit: (j: Json) => void) => (path: string) => editLuks2Json(path, edit);
export const F = (name: string, edit: (j: Json) => void, refuse: RegExp): Case => ({
  name,
  make: json(edit),
  cs: 'F',
  refuse,
});
export const R = (name: string, edit: (j: Json) => void, extra: Partial<Case> = {}): Case => ({
  name,
  make: json(edit),
  cs: 'R',
  ...extra,
});

export const ks = (j: Json, id: string) => j.keyslots[id];
export const seg = (j: Json) => j.segments['0'];
export const off = (j: Json, id: string) => Number(ks(j, id).area.offset);

/** Our verdict on `path`: what inspect says (or throws) and whether `pass` opens it. */
export async function ours(path: string, pass: string) {
  let info: ImageInfo | undefined;
  let loadError: unknown;
  try {
    info = await inspectImage(path);
  } catch (e) {
    loadError = e;
  }
  let opens = false;
  try {
    await keyslotTest(path, enc(pass));
    opens = true;
  } catch (e) {
    if (!isVaultError(e)) throw e;
  }
  return { info, loadError, opens };
}

/** What a suite's own extra tests may use: the scratch folder and the passphrase file. */
export interface VerdictContext {
  dir: () => string;
  pw: () => string;
}

/** One `describe` running `CASES` against a fresh cryptsetup-made base header; `extra` adds tests. */
export function luks2VerdictSuite(
  title: string,
  CASES: Case[],
  extra?: (ctx: VerdictContext) => void
): void {
  describe(title, peerTestOptions('cryptsetup'), () => {
    let dir = '';
    let cleanup: () => Promise<void> = async () => {};
    let pw = '';
    let base = '';
    let baseJson: Json = {};
    before(async () => {
      ({ dir, cleanup } = await scratchDir('iv-luks2v-'));
      pw = await passphraseFile(dir, 'pw', 'abc123');
      const pw2 = await passphraseFile(dir, 'pw2', 'second');
      base = join(dir, 'base.img');
      await emptyFile(base, 4 << 20);
      await runOk('cryptsetup', [
        'luksFormat',
        '--batch-mode',
        '--type',
        'luks2',
        '--pbkdf',
        'pbkdf2',
        '--pbkdf-force-iterations',
        '1000',
        '--offset',
        '4096',
        '--key-file',
        pw,
        base,
      ]);
      await cryptsetupAddKey(base, pw, pw2, ['--pbkdf', 'pbkdf2']);
      baseJson = await readLuks2Json(base);
      assert.equal(baseJson.config.keyslots_size, String(KS_SIZE));
    });
    after(() => cleanup());

    CASES.forEach((c, n) => {
      it(`${c.cs === 'F' ? 'refused' : 'loaded'}: ${c.name}`, async () => {
        const path = join(dir, `case-${n}.img`);
        await copyFile(base, path);
        await c.make(path, structuredClone(baseJson));
        const before = await fileSha256(path);
        const cs = await cryptsetupVerdict(path, pw);
        assert.equal(await fileSha256(path), before, 'cryptsetup left the file as it was');
        assert.equal(cs.isLuks, c.cs === 'R', 'the case is built as cryptsetup sees it');
        assert.equal(cs.dump, cs.isLuks);
        const o = await ours(path, 'abc123');
        if (c.cs === 'F') {
          assert.ok(isVaultError(o.loadError), `we refuse it too (got ${o.info?.format})`);
          assert.equal(o.loadError.code, 'CORRUPT');
          assert.match(o.loadError.message, c.refuse!);
        } else {
          assert.equal(
            o.loadError,
            undefined,
            `we load it too: ${(o.loadError as Error)?.message}`
          );
          assert.equal(o.info!.format, 'luks');
          c.check?.(o.info!);
        }
        assert.equal(o.opens, cs.opens, 'open --test-passphrase verdict');
        if (c.cs === 'R') assert.equal(cs.opens, c.opens ?? true);
        assert.equal(await fileSha256(path), before, 'we left the file as it was');
      });
    });

    extra?.({ dir: () => dir, pw: () => pw });
  });
}
