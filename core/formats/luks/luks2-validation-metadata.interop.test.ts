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
import {
  F,
  KS_SIZE,
  ks,
  luks2VerdictSuite,
  R,
  seg,
  type Case,
} from '../../testing/luks2-verdicts.js';

// Segments, config and keyslot objects; the binary headers and areas are in
// luks2-validation.interop.test.ts.
const CASES: Case[] = [
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

luks2VerdictSuite('LUKS2 verdicts equal cryptsetup’s: segments, config, keyslots', CASES);
