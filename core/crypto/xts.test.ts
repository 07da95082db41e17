/**
 * XTS-AES against IEEE 1619-2007 vectors (as published in the standard and reproduced in
 * Botan/QEMU test data) and against OpenSSL's native aes-xts (test-only cross-check; core
 * itself must not use it, docs/DESIGN.md constraint 2).
 */
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes as nodeRandom } from 'node:crypto';
import { describe, it } from 'node:test';
import { fromHex, hex } from '../testing/bytes.js';
import { parseLuksCipher } from './cipher-spec.js';
import { nobleProvider } from './provider-noble.js';
import { nodeProvider } from './provider-node.js';
import { createSectorCipher, createUnitCipher } from './sector-cipher.js';

const PATTERN = hex(new Uint8Array(512).map((_, i) => i & 0xff));

const V4_CT =
  '27a7479befa1d476489f308cd4cfa6e2a96e4bbe3208ff25287dd3819616e89c' +
  'c78cf7f5e543445f8333d8fa7f56000005279fa5d8b5e4ad40e736ddb4d35412' +
  '328063fd2aab53e5ea1e0a9f332500a5df9487d07a5c92cc512c8866c7e860ce' +
  '93fdf166a24912b422976146ae20ce846bb7dc9ba94a767aaef20c0d61ad0265' +
  '5ea92dc4c4e41a8952c651d33174be51a10c421110e6d81588ede82103a252d8' +
  'a750e8768defffed9122810aaeb99f9172af82b604dc4b8e51bcb08235a6f434' +
  '1332e4ca60482a4ba1a03b3e65008fc5da76b70bf1690db4eae29c5f1badd03c' +
  '5ccf2a55d705ddcd86d449511ceb7ec30bf12b1fa35b913f9f747a8afd1b130e' +
  '94bff94effd01a91735ca1726acd0b197c4e5b03393697e126826fb6bbde8ecc' +
  '1e08298516e2c9ed03ff3c1b7860f6de76d4cecd94c8119855ef5297ca67e9f3' +
  'e7ff72b1e99785ca0a7e7720c5b36dc6d72cac9574c8cbbc2f801e23e56fd344' +
  'b07f22154beba0f08ce8891e643ed995c94d9a69c9f1b5f499027a78572aeebd' +
  '74d20cc39881c213ee770b1010e4bea718846977ae119f7a023ab58cca0ad752' +
  'afe656bb3c17256a9f6e9bf19fdd5a38fc82bbe872c5539edb609ef4f79c203e' +
  'bb140f2e583cb2ad15b4aa5b655016a8449277dbd477ef2c8d6c017db738b18d' +
  'eb4a427d1923ce3ff262735779a418f20a282df920147beabe421ee5319d0568';

const V5_CT =
  '264d3ca8512194fec312c8c9891f279fefdd608d0c027b60483a3fa811d65ee5' +
  '9d52d9e40ec5672d81532b38b6b089ce951f0f9c35590b8b978d175213f329bb' +
  '1c2fd30f2f7f30492a61a532a79f51d36f5e31a7c9a12c286082ff7d2394d18f' +
  '783e1a8e72c722caaaa52d8f065657d2631fd25bfd8e5baad6e527d763517501' +
  'c68c5edc3cdd55435c532d7125c8614deed9adaa3acade5888b87bef641c4c99' +
  '4c8091b5bcd387f3963fb5bc37aa922fbfe3df4e5b915e6eb514717bdd2a7407' +
  '9a5073f5c4bfd46adf7d282e7a393a52579d11a028da4d9cd9c77124f9648ee3' +
  '83b1ac763930e7162a8d37f350b2f74b8472cf09902063c6b32e8c2d9290cefb' +
  'd7346d1c779a0df50edcde4531da07b099c638e83a755944df2aef1aa31752fd' +
  '323dcb710fb4bfbb9d22b925bc3577e1b8949e729a90bbafeacf7f7879e7b114' +
  '7e28ba0bae940db795a61b15ecf4df8db07b824bb062802cc98a9545bb2aaeed' +
  '77cb3fc6db15dcd7d80d7d5bc406c4970a3478ada8899b329198eb61c193fb62' +
  '75aa8ca340344a75a862aebe92eee1ce032fd950b47d7704a3876923b4ad6284' +
  '4bf4a09c4dbe8b4397184b7471360c9564880aedddb9baa4af2e75394b08cd32' +
  'ff479c57a07d3eab5d54de5f9738b8d27f27a9f0ab11799d7b7ffefb2704c95c' +
  '6ad12c39f1e867a4b7b1d7818a4b753dfd2a89ccb45e001a03a867b187f225dd';

const K256 =
  '2718281828459045235360287471352662497757247093699959574966967627' +
  '3141592653589793238462643383279502884197169399375105820974944592';

/** [label, key1‖key2, data unit sequence number, plaintext, ciphertext] */
const VECTORS: [string, string, number, string, string][] = [
  [
    '1',
    '00'.repeat(32),
    0,
    '00'.repeat(32),
    '917cf69ebd68b2ec9b9fe9a3eadda692cd43d2f59598ed858c02c2652fbf922e',
  ],
  [
    '2',
    '11'.repeat(16) + '22'.repeat(16),
    0x3333333333,
    '44'.repeat(32),
    'c454185e6a16936e39334038acef838bfb186fff7480adc4289382ecd6d394f0',
  ],
  [
    '3',
    'fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0' + '22'.repeat(16),
    0x3333333333,
    '44'.repeat(32),
    'af85336b597afc1a900b2eb21ec949d292df4c047e0b21532186a5971a227a89',
  ],
  [
    '15 (32-byte unit)',
    'fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0bfbebdbcbbbab9b8b7b6b5b4b3b2b1b0',
    0x123456789a,
    '44'.repeat(32),
    'b01f86f8edc1863706fa8a4253e34f28af319de38334870f4dd1f94cbe9832f1',
  ],
  ['4', '2718281828459045235360287471352631415926535897932384626433832795', 0, PATTERN, V4_CT],
  ['5', '2718281828459045235360287471352631415926535897932384626433832795', 1, V4_CT, V5_CT],
  [
    '10 (XTS-AES-256)',
    K256,
    0xff,
    PATTERN,
    '1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b' +
      '5d31e276f8fe4a8d66b317f9ac683f44680a86ac35adfc3345befecb4bb188fd' +
      '5776926c49a3095eb108fd1098baec70aaa66999a72a82f27d848b21d4a741b0' +
      'c5cd4d5fff9dac89aeba122961d03a757123e9870f8acf1000020887891429ca' +
      '2a3e7a7d7df7b10355165c8b9a6d0a7de8b062c4500dc4cd120c0f7418dae3d0' +
      'b5781c34803fa75421c790dfe1de1834f280d7667b327f6c8cd7557e12ac3a0f' +
      '93ec05c52e0493ef31a12d3d9260f79a289d6a379bc70c50841473d1a8cc81ec' +
      '583e9645e07b8d9670655ba5bbcfecc6dc3966380ad8fecb17b6ba02469a020a' +
      '84e18e8f84252070c13e9f1f289be54fbc481457778f616015e1327a02b140f1' +
      '505eb309326d68378f8374595c849d84f4c333ec4423885143cb47bd71c5edae' +
      '9be69a2ffeceb1bec9de244fbe15992b11b77c040f12bd8f6a975a44a0f90c29' +
      'a9abc3d4d893927284c58754cce294529f8614dcd2aba991925fedc4ae74ffac' +
      '6e333b93eb4aff0479da9a410e4450e0dd7ae4c6e2910900575da401fc07059f' +
      '645e8b7e9bfdef33943054ff84011493c27b3429eaedb4ed5376441a77ed4385' +
      '1ad77f16f541dfd269d50d6a5f14fb0aab1cbb4c1550be97f7ab4066193c4caa' +
      '773dad38014bd2092fa755c824bb5e54c4f36ffda9fcea70b9c6e693e148c151',
  ],
  [
    '11 (XTS-AES-256)',
    K256,
    0xffff,
    PATTERN,
    '77a31251618a15e6b92d1d66dffe7b50b50bad552305ba0217a610688eff7e11' +
      'e1d0225438e093242d6db274fde801d4cae06f2092c728b2478559df58e837c2' +
      '469ee4a4fa794e4bbc7f39bc026e3cb72c33b0888f25b4acf56a2a9804f1ce6d' +
      '3d6e1dc6ca181d4b546179d55544aa7760c40d06741539c7e3cd9d2f6650b201' +
      '3fd0eeb8c2b8e3d8d240ccae2d4c98320a7442e1c8d75a42d6e6cfa4c2eca179' +
      '8d158c7aecdf82490f24bb9b38e108bcda12c3faf9a21141c3613b58367f922a' +
      'aa26cd22f23d708dae699ad7cb40a8ad0b6e2784973dcb605684c08b8d6998c6' +
      '9aac049921871ebb65301a4619ca80ecb485a31d744223ce8ddc2394828d6a80' +
      '470c092f5ba413c3378fa6054255c6f9df4495862bbb3287681f931b687c888a' +
      'bf844dfc8fc28331e579928cd12bd2390ae123cf03818d14dedde5c0c24c8ab0' +
      '18bfca75ca096f2d531f3d1619e785f1ada437cab92e980558b3dce1474afb75' +
      'bfedbf8ff54cb2618e0244c9ac0d3c66fb51598cd2db11f9be39791abe447c63' +
      '094f7c453b7ff87cb5bb36b7c79efb0872d17058b83b15ab0866ad8a58656c5a' +
      '7e20dbdf308b2461d97c0ec0024a2715055249cf3b478ddd4740de654f75ca68' +
      '6e0d7345c69ed50cdc2a8b332b1f8824108ac937eb050585608ee734097fc090' +
      '54fbff89eeaeea791f4a7ab1f9868294a4f9e27b42af8100cb9d59cef9645803',
  ],
];

describe('XTS-AES: IEEE 1619 vectors', () => {
  for (const provider of [nodeProvider, nobleProvider]) {
    for (const [label, keyHex, dusn, ptHex, ctHex] of VECTORS) {
      it(`vector ${label} (${provider.name})`, () => {
        const key = fromHex(keyHex);
        const pt = fromHex(ptHex);
        const spec = parseLuksCipher('aes', 'xts-plain64', key.length);
        const c = createUnitCipher(spec, key, pt.length, provider);
        const buf = pt.slice();
        c.encrypt(buf, dusn);
        assert.equal(hex(buf), ctHex);
        c.decrypt(buf, dusn);
        assert.equal(hex(buf), ptHex);
        c.dispose();
      });
    }
  }

  it('multi-sector data: [P4 ‖ C4] at sector 0 gives [C4 ‖ C5] (vectors 4 and 5 chained)', () => {
    const key = fromHex('2718281828459045235360287471352631415926535897932384626433832795');
    const c = createSectorCipher(parseLuksCipher('aes', 'xts-plain64', 32), key);
    const buf = fromHex(PATTERN + V4_CT);
    c.encrypt(buf, 0);
    assert.equal(hex(buf), V4_CT + V5_CT);
    c.decrypt(buf, 0);
    assert.equal(hex(buf), PATTERN + V4_CT);
  });
});

describe('XTS-AES: cross-check with OpenSSL aes-xts (test only)', () => {
  function nativeXts(
    key: Uint8Array,
    data: Uint8Array,
    sector: number,
    unit: number,
    dec: boolean
  ) {
    const name = key.length === 64 ? 'aes-256-xts' : 'aes-128-xts';
    const out = new Uint8Array(data.length);
    for (let off = 0, s = sector; off < data.length; off += unit, s += unit / 512) {
      const iv = Buffer.alloc(16);
      iv.writeBigUInt64LE(BigInt(s));
      const c = dec ? createDecipheriv(name, key, iv) : createCipheriv(name, key, iv);
      out.set(c.update(data.subarray(off, off + unit)), off);
      c.final();
    }
    return out;
  }

  for (const keyBytes of [32, 64]) {
    for (const unit of [512, 4096]) {
      it(`${keyBytes}-byte key, ${unit}-byte sectors, random data`, () => {
        const key = new Uint8Array(nodeRandom(keyBytes));
        const data = new Uint8Array(nodeRandom(unit * 67));
        const sector = 2 ** 33 + 12345 * 8;
        const c = createSectorCipher(parseLuksCipher('aes', 'xts-plain64', keyBytes), key, unit);
        const buf = data.slice();
        c.encrypt(buf, sector);
        assert.deepEqual(buf, nativeXts(key, data, sector, unit, false));
        assert.deepEqual(nativeXts(key, buf, sector, unit, true), data);
        c.decrypt(buf, sector);
        assert.deepEqual(buf, data);
      });
    }
  }

  it('handles a buffer larger than the internal chunk and an unaligned view', () => {
    const key = new Uint8Array(nodeRandom(64));
    const backing = new Uint8Array(1 + 1024 * 1024 + 512);
    backing.set(nodeRandom(backing.length));
    const view = backing.subarray(1, 1 + 1024 * 1024 + 512); // byteOffset 1: not 4-aligned
    const data = view.slice();
    const c = createSectorCipher(parseLuksCipher('aes', 'xts-plain64', 64), key);
    c.encrypt(view, 77);
    assert.deepEqual(view, nativeXts(key, data, 77, 512, false));
    c.decrypt(view, 77);
    assert.deepEqual(view, data);
  });
});
