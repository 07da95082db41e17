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
import { join } from 'node:path';
import { it } from 'node:test';
import { inspectImage } from '../../service/inspect.js';
import {
  breakLuks2Checksum,
  cryptsetupVerdict,
  editLuks2Binary,
  writeLuks2JsonArea,
} from '../../testing/luks2-edit.js';
import { runOk } from '../../testing/peers.js';
import {
  emptyFile,
  F,
  KS_SIZE,
  ks,
  luks2VerdictSuite,
  off,
  ours,
  R,
  seg,
  type Case,
} from '../../testing/luks2-verdicts.js';

// Binary headers, keyslot areas, digests, tokens and 64-bit numbers; segments, config and
// keyslot objects are in luks2-validation-metadata.interop.test.ts.
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
];

luks2VerdictSuite(
  'LUKS2 verdicts equal cryptsetup’s: headers, areas, digests',
  CASES,
  ({ dir: dirOf, pw: pwOf }) => {
    for (const size of ['32k', '64k', '4m']) {
      it(`cryptsetup-made ${size} header copies load; with the primary damaged, the secondary is found`, async () => {
        const path = join(dirOf(), `hdr-${size}.img`);
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
          pwOf(),
          path,
        ]);
        const hdrSize = { '32k': 32768, '64k': 65536, '4m': 4 << 20 }[size]!;
        assert.equal((await inspectImage(path)).encryption?.headerSize, hdrSize);
        await breakLuks2Checksum(path, 'primary');
        const cs = await cryptsetupVerdict(path, pwOf());
        const o = await ours(path, 'abc123');
        assert.equal(cs.isLuks, true);
        assert.equal(o.info?.encryption?.headerState?.used, 'secondary');
        assert.equal(o.info?.encryption?.headerState?.secondary?.offset, hdrSize);
        assert.equal(o.opens, cs.opens);
        assert.equal(o.opens, true);
      });
    }
  }
);
