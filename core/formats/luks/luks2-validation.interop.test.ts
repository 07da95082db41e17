/**
 * Interop: our verdict on LUKS2 headers equals cryptsetup's (`isLuks`, `luksDump`,
 * `open --test-passphrase`), one case per defect class of cryptsetup's own validation suite
 * (`tests/luks2-validation-test`). Every case starts from a header cryptsetup made at test time
 * and breaks exactly one thing (JSON edited, checksums recomputed), so a refusal for an
 * unrelated earlier reason cannot hide a missing check; refusals must name the defect.
 * cryptsetup runs with --disable-locks, which turns off its automatic header recovery, and the
 * file is checked to be unchanged afterwards.
 */
import assert from 'node:assert/strict';
import { copyFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isVaultError } from '../../api/errors.js';
import type { ImageInfo } from '../../api/types.js';
import { inspectImage } from '../../service/inspect.js';
import { keyslotTest } from '../../service/keyslots.js';
import { cryptsetupAddKey } from '../../testing/luks-peers.js';
import {
  breakLuks2Checksum,
  cryptsetupVerdict,
  editLuks2Binary,
  editLuks2Json,
  fileSha256,
  readLuks2Json,
  writeLuks2JsonArea,
  type Json,
} from '../../testing/luks2-edit.js';
import { passphraseFile, peerTestOptions, runOk, scratchDir } from '../../testing/peers.js';

const enc = (s: string) => new TextEncoder().encode(s);
const KS_SIZE = 2064384; // keyslots_size of the base image (data at 2 MiB)

async function emptyFile(path: string, size: number): Promise<void> {
  await writeFile(path, '');
  await truncate(path, size);
}

interface Case {
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
const F = (name: string, edit: (j: Json) => void, refuse: RegExp): Case => ({
  name,
  make: json(edit),
  cs: 'F',
  refuse,
});
const R = (name: string, edit: (j: Json) => void, extra: Partial<Case> = {}): Case => ({
  name,
  make: json(edit),
  cs: 'R',
  ...extra,
});

const ks = (j: Json, id: string) => j.keyslots[id];
const seg = (j: Json) => j.segments['0'];
const off = (j: Json, id: string) => Number(ks(j, id).area.offset);

const CASES: Case[] = [
  // Binary headers and the JSON area (luks2_disk_metadata.c).
  {
    name: 'both copies have bad checksums',
    make: (p) => breakLuks2Checksum(p, 'both'),
    cs: 'F',
    refuse: /Both LUKS2 header copies have bad checksums/,
  },
  {
    name: 'primary copy has a bad checksum: the secondary is used',
    make: (p) => breakLuks2Checksum(p, 'primary'),
    cs: 'R',
    check: (i) => {
      assert.equal(i.encryption?.headerState?.used, 'secondary');
      assert.equal(i.encryption?.headerState?.primary.status, 'damaged');
      assert.match(i.encryption?.headerState?.primary.reason ?? '', /bad checksum/);
      assert.equal(i.encryption?.headerState?.needsRepair, true);
      assert.ok(i.warnings.some((w) => /primary LUKS2 header copy is damaged/.test(w)));
    },
  },
  {
    name: 'secondary copy has a bad checksum',
    make: (p) => breakLuks2Checksum(p, 'secondary'),
    cs: 'R',
    check: (i) => assert.equal(i.encryption?.headerState?.secondary?.status, 'damaged'),
  },
  {
    name: 'primary JSON corrupted under a correct checksum',
    make: (p) => writeLuks2JsonArea(p, '{"keyslots":{', 'primary'),
    cs: 'R',
    check: (i) => assert.equal(i.encryption?.headerState?.used, 'secondary'),
  },
  {
    name: 'secondary JSON corrupted under a correct checksum',
    make: (p) => writeLuks2JsonArea(p, '{}', 'secondary'),
    cs: 'R',
    check: (i) => assert.match(i.encryption?.headerState?.secondary?.reason ?? '', /root/),
  },
  {
    name: 'primary magic destroyed: found by the secondary magic',
    make: (p) => editLuks2Binary(p, 'primary', (b) => b.fill(0, 0, 8)),
    cs: 'R',
    check: (i) => {
      assert.equal(i.format, 'luks');
      assert.equal(i.encryption?.headerState?.primary.status, 'damaged');
    },
  },
  {
    name: 'a byte right after the JSON object',
    make: async (p, j) => writeLuks2JsonArea(p, JSON.stringify(j) + 'X'),
    cs: 'F',
    refuse: /data after the JSON object/,
  },
  {
    name: 'text later in the JSON area',
    make: async (p, j) => {
      const area = Buffer.alloc(12288);
      area.write(JSON.stringify(j));
      area.write('Keep looking shocked and move slowly towards the cake.', 8000);
      await writeLuks2JsonArea(p, area);
    },
    cs: 'F',
    refuse: /non-zero bytes after the JSON text/,
  },
  {
    name: 'no terminating NUL',
    make: async (p, j) => {
      const text = JSON.stringify(j);
      j.config.pad = 'x'.repeat(12288 - text.length - ',"pad":""'.length);
      await writeLuks2JsonArea(p, Buffer.from(JSON.stringify(j)));
    },
    cs: 'F',
    refuse: /no terminating NUL/,
  },
  {
    name: 'leading whitespace',
    make: (p, j) => writeLuks2JsonArea(p, ' ' + JSON.stringify(j)),
    cs: 'F',
    refuse: /does not start with/,
  },
  {
    name: 'top level is an array',
    make: (p, j) => writeLuks2JsonArea(p, `[${JSON.stringify(j)}]`),
    cs: 'F',
    refuse: /does not start with/,
  },
  F('tokens is a number', (j) => (j.tokens = 42), /root\.tokens is missing or not an object/),
  F('keyslots is a list', (j) => (j.keyslots = []), /root\.keyslots is missing or not an object/),
  F('segments is a string', (j) => (j.segments = 'hi'), /root\.segments/),
  F('config is missing', (j) => delete j.config, /root\.config/),
  // Keyslot areas (hdr_validate_areas).
  F(
    'two identical keyslot areas',
    (j) => (ks(j, '1').area.offset = ks(j, '0').area.offset),
    /keyslot areas 0 and 1 overlap/
  ),
  F(
    'intersecting keyslot areas',
    (j) => {
      ks(j, '1').area.offset = String(off(j, '0') + 1);
      ks(j, '1').area.size = String(Number(ks(j, '0').area.size) - 1);
    },
    /keyslot areas 0 and 1 overlap/
  ),
  F(
    'keyslot areas overlapping by one byte',
    (j) => (ks(j, '1').area.offset = String(off(j, '0') + Number(ks(j, '0').area.size) - 1)),
    /keyslot areas 0 and 1 overlap/
  ),
  F(
    'keyslot area in the header copies',
    (j) => (ks(j, '0').area.offset = '16384'),
    /keyslot 0 area lies in the header copies/
  ),
  F(
    'keyslot area past the keyslots area',
    (j) => (ks(j, '1').area.offset = String(32768 + KS_SIZE - 4096)),
    /keyslot 1 area ends beyond the keyslots area/
  ),
  F(
    'keyslot area size that overflows',
    (j) => (ks(j, '0').area.size = '18446744073709551615'),
    /keyslot 0 area ends beyond the keyslots area/
  ),
  F(
    'keyslot area of size zero',
    (j) => (ks(j, '1').area.size = '0'),
    /keyslot 1 area has size zero/
  ),
  R('keyslot area not 4 KiB aligned', (j) => (ks(j, '1').area.offset = String(off(j, '1') + 512))),
  // Digests and tokens (hdr_validate_digests, hdr_validate_tokens, keyslot digests).
  F(
    'keyslot in two digests',
    (j) => (j.digests['1'] = { ...j.digests['0'], keyslots: ['1'] }),
    /keyslot 1 is assigned to 2 digests/
  ),
  F(
    'keyslot in no digest',
    (j) => (j.digests['0'].keyslots = ['0']),
    /keyslot 1 is assigned to 0 digests/
  ),
  F(
    'digest names a missing keyslot',
    (j) => j.digests['0'].keyslots.push('5'),
    /digest 0 references keyslot 5, which does not exist/
  ),
  F(
    'digest names a missing segment',
    (j) => j.digests['0'].segments.push('3'),
    /digest 0 references segment 3, which does not exist/
  ),
  F(
    'token names a missing keyslot',
    (j) => (j.tokens['0'] = { type: 'clevis', keyslots: ['7'] }),
    /token 0 references keyslot 7, which does not exist/
  ),
  F('token without a type', (j) => (j.tokens['0'] = { keyslots: ['0'] }), /token 0\.type/),
  R(
    'a token for keyslot 1',
    (j) => (j.tokens['0'] = { type: 'clevis', keyslots: ['1'], jwe: {} }),
    {
      check: (i) =>
        assert.deepEqual(i.encryption?.tokens, [{ id: 0, type: 'clevis', keyslots: [1] }]),
    }
  ),
  // 64-bit numbers.
  R('segment size of 2^64 - 4096', (j) => (seg(j).size = '18446744073709547520')),
  F(
    'segment size not a multiple of its sector size',
    (j) => (seg(j).size = '18446744073709551104'),
    /size is not a multiple of its sector size/
  ),
  F(
    'segment size over 2^64',
    (j) => (seg(j).size = '18446744073709551616'),
    /does not fit in 64 bits/
  ),
  F('negative segment size', (j) => (seg(j).size = '-512'), /not an unsigned decimal number/),
  // Segments (hdr_validate_segments, hdr_validate_crypt_segment).
  F('segment without type', (j) => delete seg(j).type, /segment 0\.type is missing/),
  F('segment type not a string', (j) => (seg(j).type = 42), /segment 0\.type is missing/),
  F('segment without offset', (j) => delete seg(j).offset, /segment 0\.offset is missing/),
  F(
    'negative segment offset',
    (j) => (seg(j).offset = '-42'),
    /segment 0\.offset .*not an unsigned/
  ),
  F(
    'segment offset not 512-aligned',
    (j) => (seg(j).offset = '2097153'),
    /offset is not a multiple of 512/
  ),
  F('segment without size', (j) => delete seg(j).size, /segment 0\.size is missing/),
  F('segment size a number', (j) => (seg(j).size = 4096), /segment 0\.size is missing/),
  F('segment size a word', (j) => (seg(j).size = 'automatic'), /not an unsigned decimal number/),
  F('segment size 511', (j) => (seg(j).size = '511'), /size is not a multiple of 512/),
  F('crypt segment without encryption', (j) => delete seg(j).encryption, /segment 0\.encryption/),
  F(
    'crypt segment with empty encryption',
    (j) => (seg(j).encryption = ''),
    /segment 0\.encryption/
  ),
  F('crypt segment encryption an object', (j) => (seg(j).encryption = {}), /segment 0\.encryption/),
  F('crypt segment without iv_tweak', (j) => delete seg(j).iv_tweak, /segment 0\.iv_tweak/),
  F('crypt segment iv_tweak a word', (j) => (seg(j).iv_tweak = 'dynamic'), /iv_tweak .*unsigned/),
  F('crypt segment without sector_size', (j) => delete seg(j).sector_size, /sector_size/),
  F('sector_size 1023', (j) => (seg(j).sector_size = 1023), /sector_size \(1023\)/),
  F(
    'sector_size a string',
    (j) => (seg(j).sector_size = '4096'),
    /sector_size is missing or not an integer/
  ),
  F(
    'sector_size negative',
    (j) => (seg(j).sector_size = -1024),
    /sector_size \(-1024\) is out of range/
  ),
  F('segment flags not a list', (j) => (seg(j).flags = 'hello'), /segment 0\.flags is not a list/),
  F(
    'segment flags hold a number',
    (j) => (seg(j).flags = ['hello', 1]),
    /flags holds a non-string/
  ),
  F(
    'backup segment after a gap',
    (j) => (j.segments['2'] = { type: 'linear', offset: '512', size: '512', flags: ['backup-x'] }),
    /gap in segment ids/
  ),
  R(
    'a segment of an unknown type',
    (j) =>
      (j.segments['0'] = { type: 'some_type', offset: seg(j).offset, size: seg(j).size, a: 0 }),
    { check: (i) => assert.match(i.encryption?.unsupportedReason ?? '', /segment/) }
  ),
  R(
    'two segments',
    (j) => {
      seg(j).size = '4096';
      j.segments['1'] = {
        type: 'some',
        offset: String(Number(seg(j).offset) + 4096),
        size: 'dynamic',
      };
    },
    { check: (i) => assert.match(i.encryption?.unsupportedReason ?? '', /several segments/) }
  ),
  // Config (hdr_validate_config, hdr_validate_requirements).
  F(
    'keyslots_size reaching into the data',
    (j) => (j.config.keyslots_size = String(2097152 - 32768 + 4096)),
    /keyslots_size does not fit between the headers and the data/
  ),
  F(
    'keyslots_size not 4 KiB aligned',
    (j) => (j.config.keyslots_size = String(KS_SIZE - 1)),
    /keyslots_size is not a multiple of 4096/
  ),
  F(
    'keyslots_size smaller than its areas',
    (j) => (j.config.keyslots_size = String(2 * 258048 - 4096)),
    /keyslot 1 area ends beyond the keyslots area/
  ),
  F('json_size not a header size', (j) => (j.config.json_size = '12287'), /json_size 12287/),
  F(
    'json_size of another header size',
    (j) => (j.config.json_size = String(32768 - 4096)),
    /does not match the binary header/
  ),
  F('config flags not a list', (j) => (j.config.flags = 'x'), /config\.flags is not a list/),
  R('config flags', (j) => (j.config.flags = ['allow-discards']), {
    check: (i) => assert.deepEqual(i.encryption?.flags, ['allow-discards']),
  }),
  F(
    'mandatory requirements not a list',
    (j) => (j.config.requirements = { mandatory: 'x' }),
    /requirements\.mandatory is not a list/
  ),
  F(
    'two online-reencrypt requirements',
    (j) => (j.config.requirements = { mandatory: ['online-reencrypt-v2', 'online-reencrypt-v3'] }),
    /more than one online-reencrypt flag/
  ),
  R(
    'an unknown mandatory requirement',
    (j) => (j.config.requirements = { mandatory: ['foo-feature'] }),
    {
      check: (i) => {
        assert.deepEqual(i.encryption?.requirements, ['foo-feature']);
        assert.match(
          i.encryption?.unsupportedReason ?? '',
          /requirement not supported: foo-feature/
        );
      },
    }
  ),
  // Keyslot objects (luks2_keyslot_validate).
  F(
    'keyslot area a number',
    (j) => (ks(j, '0').area = 42),
    /keyslot 0\.area is missing or not an object/
  ),
  F(
    'keyslot kdf a number',
    (j) => (ks(j, '0').kdf = 42),
    /keyslot 0\.kdf is missing or not an object/
  ),
  F(
    'keyslot af a number',
    (j) => (ks(j, '0').af = 42),
    /keyslot 0\.af is missing or not an object/
  ),
  F('keyslot af type a number', (j) => (ks(j, '0').af.type = 42), /keyslot 0\.af\.type/),
  F(
    'keyslot af type unknown',
    (j) => (ks(j, '0').af.type = 'luks2'),
    /af\.type "luks2" is not luks1/
  ),
  F(
    'keyslot area type unknown',
    (j) => (ks(j, '0').area.type = 'foo'),
    /area\.type "foo" is not raw/
  ),
  F('keyslot without key_size', (j) => delete ks(j, '1').key_size, /keyslot 1\.key_size/),
  R('pbkdf2 keyslot with leftover argon2 fields', (j) =>
    Object.assign(ks(j, '0').kdf, { time: 4, cpus: 1 })
  ),
  R(
    'keyslot 1 with an unknown KDF type',
    (j) =>
      (ks(j, '1').kdf = {
        type: 'argon2',
        time: 4,
        memory: 32,
        cpus: 1,
        salt: ks(j, '1').kdf.salt,
      }),
    {
      check: (i) => {
        const s1 = i.encryption?.slots[1];
        assert.equal(s1?.kdf, 'unknown');
        assert.match(s1?.unusableReason ?? '', /KDF type argon2 is not supported/);
        assert.equal(i.encryption?.slots[0]?.unusableReason, undefined);
      },
    }
  ),
  R(
    'keyslot 1 with an unknown keyslot cipher',
    (j) => (ks(j, '1').area.encryption = 'foo-xts-plain64'),
    {
      check: (i) =>
        assert.match(i.encryption?.slots[1]?.unusableReason ?? '', /keyslot cipher.*foo/),
    }
  ),
  R('keyslot 1 of an unknown type', (j) => (ks(j, '1').type = 'other'), {
    check: (i) => assert.match(i.encryption?.slots[1]?.unusableReason ?? '', /type other/),
  }),
  R('a digest of an unknown type', (j) => (j.digests['0'].type = 'foo'), { opens: false }),
];

async function ours(path: string, pass: string) {
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

describe('LUKS2 verdicts equal cryptsetup’s', peerTestOptions('cryptsetup'), () => {
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
        assert.equal(o.loadError, undefined, `we load it too: ${(o.loadError as Error)?.message}`);
        assert.equal(o.info!.format, 'luks');
        c.check?.(o.info!);
      }
      assert.equal(o.opens, cs.opens, 'open --test-passphrase verdict');
      if (c.cs === 'R') assert.equal(cs.opens, c.opens ?? true);
      assert.equal(await fileSha256(path), before, 'we left the file as it was');
    });
  });

  for (const size of ['32k', '64k', '4m']) {
    it(`cryptsetup-made ${size} header copies load; with the primary damaged, the secondary is found`, async () => {
      const path = join(dir, `hdr-${size}.img`);
      await emptyFile(path, 16 << 20);
      await runOk('cryptsetup', [
        'luksFormat',
        '--batch-mode',
        '--type',
        'luks2',
        '--pbkdf',
        'pbkdf2',
        '--pbkdf-force-iterations',
        '1000',
        '--luks2-metadata-size',
        size,
        '--offset',
        '24576',
        '--key-file',
        pw,
        path,
      ]);
      const hdrSize = { '32k': 32768, '64k': 65536, '4m': 4 << 20 }[size]!;
      assert.equal((await inspectImage(path)).encryption?.headerSize, hdrSize);
      await breakLuks2Checksum(path, 'primary');
      const cs = await cryptsetupVerdict(path, pw);
      const o = await ours(path, 'abc123');
      assert.equal(cs.isLuks, true);
      assert.equal(o.info?.encryption?.headerState?.used, 'secondary');
      assert.equal(o.info?.encryption?.headerState?.secondary?.offset, hdrSize);
      assert.equal(o.opens, cs.opens);
      assert.equal(o.opens, true);
    });
  }
});
