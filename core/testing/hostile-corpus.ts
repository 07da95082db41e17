/**
 * Test-only: the hostile corpus of issue #13, generated at test time from valid images made
 * by the peers (qemu-img qcow2 v2/v3 and qcow2+LUKS, cryptsetup LUKS1/LUKS2 with PBKDF2 and
 * argon2id): random flips in the first 64 KiB, truncations, targeted header fields, LUKS2
 * JSON (size, depth, nesting, costs) and backing files that are FIFOs, devices, directories,
 * `/proc/self/mem`, loops and a 300-deep chain.
 */
import { copyFile, mkdir, open, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { editLuks2Binary, editLuks2Json, writeLuks2JsonArea, type Json } from './luks2-edit.js';
import { cryptsetupLuksFormat } from './luks-peers.js';
import { qemuSecret, runOk, runQemuRetrying } from './peers.js';

export interface CorpusEntry {
  path: string;
  /** What was done to which base (`flip:q3.qcow2:17`, `luks1:stripes=0`, …). */
  label: string;
  /** The base is encrypted with the corpus passphrase. */
  encrypted: boolean;
}

export const CORPUS_PASSPHRASE = 'abc123';

/** A small seeded PRNG (mulberry32): the same corpus every run. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function patch(path: string, offset: number, bytes: Buffer) {
  const fh = await open(path, 'r+');
  try {
    await fh.write(bytes, 0, bytes.length, offset);
  } finally {
    await fh.close();
  }
}
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
};
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
};

/** Makes the peer-made bases in `dir`; returns [name, encrypted] pairs. */
async function makeBases(dir: string, pw: string): Promise<[string, boolean][]> {
  const s = await qemuSecret(dir, 's', CORPUS_PASSPHRASE);
  const q = join(dir, 'q3.qcow2');
  await runOk('qemu-img', ['create', '-f', 'qcow2', q, '4M']);
  await runOk('qemu-io', [
    '-f',
    'qcow2',
    '-c',
    'write -P 0x11 0 512k',
    '-c',
    'write -P 0x22 1M 64k',
    q,
  ]);
  await runOk('qemu-img', ['snapshot', '-c', 'snap1', q]);
  const q2 = join(dir, 'q2.qcow2');
  await runOk('qemu-img', ['create', '-f', 'qcow2', '-o', 'compat=0.10', q2, '4M']);
  await runOk('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x33 64k 256k', q2]);
  const ql = join(dir, 'ql.qcow2');
  await runQemuRetrying('qemu-img', [
    'create',
    '-f',
    'qcow2',
    ...s,
    '-o',
    'encrypt.format=luks,encrypt.key-secret=s,encrypt.iter-time=10',
    ql,
    '4M',
  ]);
  await runOk('qemu-io', [
    ...s,
    '--image-opts',
    `driver=qcow2,file.filename=${ql},encrypt.key-secret=s`,
    '-c',
    'write -P 0x44 0 256k',
  ]);
  const l1 = join(dir, 'l1.luks');
  await truncate(await touch(l1), 3 << 20);
  await cryptsetupLuksFormat(l1, pw);
  const l2 = join(dir, 'l2.luks');
  await truncate(await touch(l2), 17 << 20);
  await cryptsetupLuksFormat(l2, pw, [], 'luks2');
  const l2a = join(dir, 'l2a.luks');
  await truncate(await touch(l2a), 17 << 20);
  await runOk('cryptsetup', [
    'luksFormat',
    '--batch-mode',
    '--type',
    'luks2',
    '--key-file',
    pw,
    '--pbkdf',
    'argon2id',
    '--pbkdf-memory',
    '64',
    '--pbkdf-force-iterations',
    '4',
    '--pbkdf-parallel',
    '1',
    l2a,
  ]);
  return [
    ['q3.qcow2', false],
    ['q2.qcow2', false],
    ['ql.qcow2', true],
    ['l1.luks', true],
    ['l2.luks', true],
    ['l2a.luks', true],
  ];
}

async function touch(path: string) {
  await writeFile(path, '');
  return path;
}

/** The embedded LUKS header of a qcow2+LUKS image (extension 0x0537BE77: offset, length). */
async function qcow2LuksOffset(path: string): Promise<number> {
  const b = await readFile(path);
  let at = b.readUInt32BE(100); // header_length (v3)
  for (let i = 0; i < 64 && at + 8 <= b.length; i++) {
    const type = b.readUInt32BE(at);
    const len = b.readUInt32BE(at + 4);
    if (type === 0) break;
    if (type === 0x0537be77) return Number(b.readBigUInt64BE(at + 8));
    at += 8 + Math.ceil(len / 8) * 8;
  }
  throw new Error(`no LUKS extension in ${path}`);
}

/** Generates the corpus under `dir`; `pw` is a file holding CORPUS_PASSPHRASE. */
export async function generateCorpus(dir: string, pw: string): Promise<CorpusEntry[]> {
  const baseDir = join(dir, 'base');
  const out = join(dir, 'corpus');
  await mkdir(baseDir, { recursive: true });
  await mkdir(out, { recursive: true });
  const bases = await makeBases(baseDir, pw);
  const entries: CorpusEntry[] = [];
  let n = 0;
  const variant = async (
    base: string,
    encrypted: boolean,
    label: string,
    edit: (p: string) => Promise<void>
  ) => {
    const p = join(out, `${String(n++).padStart(4, '0')}-${base}`);
    await copyFile(join(baseDir, base), p);
    await edit(p);
    entries.push({ path: p, label: `${label}:${base}`, encrypted });
  };
  const rnd = prng(0x13);
  for (const [base, enc] of bases) {
    // Random damage in the first 64 KiB: 1 to 8 bytes set to random values.
    // Fewer for the argon2 base: most of its flips still run a whole Argon2 derivation.
    for (let i = 0; i < (base === 'l2a.luks' ? 10 : 24); i++) {
      await variant(base, enc, `flip${i}`, async (p) => {
        const fh = await open(p, 'r+');
        try {
          const k = 1 + Math.floor(rnd() * 8);
          for (let j = 0; j < k; j++) {
            const b = Buffer.from([Math.floor(rnd() * 256)]);
            await fh.write(b, 0, 1, Math.floor(rnd() * 65536));
          }
        } finally {
          await fh.close();
        }
      });
    }
    const size = (await stat(join(baseDir, base))).size;
    for (const len of [0, 1, 100, 511, 4096, 65536, 1 << 20, size - 1]) {
      await variant(base, enc, `truncate=${len}`, (p) => truncate(p, len));
    }
  }
  // qcow2 header fields (docs/spec/qcow2.md header layout), on v3, v2 and qcow2+LUKS.
  const qFields: [string, number, Buffer][] = [];
  for (const v of [0, 8, 21, 22, 31, 63, 0xffffffff])
    qFields.push([`cluster_bits=${v}`, 20, u32(v)]);
  for (const v of [0, 1, 0x7fffffff, 0x80000000, 0xffffffff])
    qFields.push([`l1_size=${v}`, 36, u32(v)]);
  for (const v of [0n, 1n, 0xffffffffffffff00n]) qFields.push([`l1_offset=${v}`, 40, u64(v)]);
  for (const v of [0n, 0x7ffffffffffffe00n])
    qFields.push([`refcount_table_offset=${v}`, 48, u64(v)]);
  for (const v of [0, 0x7fffffff, 0xffffffff])
    qFields.push([`refcount_table_clusters=${v}`, 56, u32(v)]);
  for (const v of [1, 65536, 0xffffffff]) qFields.push([`nb_snapshots=${v}`, 60, u32(v)]);
  for (const v of [0n, 0xffffffffffff0000n]) qFields.push([`snapshots_offset=${v}`, 64, u64(v)]);
  for (const v of [0n, 1n << 62n, 0xffffffffffffffffn]) qFields.push([`size=${v}`, 24, u64(v)]);
  for (const v of [0, 7, 0xffffffff]) qFields.push([`refcount_order=${v}`, 96, u32(v)]);
  for (const v of [0, 1, 103, 105, 0xffffffff]) qFields.push([`header_length=${v}`, 100, u32(v)]);
  for (const v of [3, 4, 0xffffffff]) qFields.push([`version=${v}`, 4, u32(v)]);
  qFields.push(['incompatible=all', 72, u64(0xffffffffffffffffn)]);
  qFields.push(['backing_offset=huge', 8, u64(0xfffffffffff00000n)]);
  qFields.push(['backing_size=huge', 16, u32(0xffffffff)]);
  for (const [label, off, bytes] of qFields) {
    for (const base of ['q3.qcow2', 'ql.qcow2']) {
      await variant(base, base === 'ql.qcow2', `qcow2:${label}`, (p) => patch(p, off, bytes));
    }
  }
  // Header extension lengths (the first extension after header_length).
  for (const v of [0, 1, 7, 0x7fffffff, 0xffffffff]) {
    for (const base of ['q3.qcow2', 'ql.qcow2']) {
      await variant(base, base === 'ql.qcow2', `qcow2:ext_length=${v}`, async (p) => {
        const b = await readFile(p);
        await patch(p, b.readUInt32BE(100) + 4, u32(v));
      });
    }
  }
  // LUKS1 fields (docs/spec/luks1.md §2), raw and inside qcow2.
  const lFields: [string, number, Buffer][] = [];
  for (const v of [0, 1, 33, 48, 0xffffffff]) lFields.push([`key_bytes=${v}`, 108, u32(v)]);
  for (const v of [0, 1, 0xffffffff]) lFields.push([`payload_offset=${v}`, 104, u32(v)]);
  for (const v of [0, 0xffffffff, 0x80000000])
    lFields.push([`digest_iterations=${v}`, 164, u32(v)]);
  for (const v of [0, 0xffffffff, 0x80000000]) lFields.push([`slot0_iterations=${v}`, 212, u32(v)]);
  for (const v of [0, 1, 3999, 0xffffffff]) lFields.push([`slot0_stripes=${v}`, 208 + 44, u32(v)]);
  for (const v of [0, 0xffffffff]) lFields.push([`slot0_key_offset=${v}`, 208 + 40, u32(v)]);
  for (const [label, off, bytes] of lFields) {
    await variant('l1.luks', true, `luks1:${label}`, (p) => patch(p, off, bytes));
    await variant('ql.qcow2', true, `qcow2-luks:${label}`, async (p) =>
      patch(p, (await qcow2LuksOffset(p)) + off, bytes)
    );
  }
  // LUKS2: binary header size, JSON size, depth and nesting, costs (checksums recomputed).
  for (const v of [0n, 1n, 4095n, 16385n, 1n << 40n]) {
    await variant('l2.luks', true, `luks2:hdr_size=${v}`, (p) =>
      editLuks2Binary(p, 'both', (b) => u64(v).copy(b, 8))
    );
  }
  const jsonEdits: [string, (j: Json) => void][] = [];
  const slot = (j: Json) => j.keyslots['0'];
  for (const v of ['0', '1', '4294967295'])
    jsonEdits.push([`stripes=${v}`, (j) => (slot(j).af.stripes = Number(v))]);
  for (const v of [0, 1, 2 ** 31]) jsonEdits.push([`key_size=${v}`, (j) => (slot(j).key_size = v)]);
  for (const v of [0, 2 ** 31, 2 ** 32 - 1])
    jsonEdits.push([`iterations=${v}`, (j) => (slot(j).kdf.iterations = v)]);
  for (const v of [0, 2 ** 32 - 1])
    jsonEdits.push([`digest_iterations=${v}`, (j) => (j.digests['0'].iterations = v)]);
  jsonEdits.push(['segment_offset=huge', (j) => (j.segments['0'].offset = '18446744073709551615')]);
  jsonEdits.push(['sector_size=3', (j) => (j.segments['0'].sector_size = 3)]);
  jsonEdits.push(['area_size=huge', (j) => (slot(j).area.size = '9007199254740993')]);
  jsonEdits.push(['keyslots=deep', (j) => (j.keyslots['0'].af = nest(500))]);
  for (const [label, edit] of jsonEdits) {
    await variant('l2.luks', true, `luks2:${label}`, (p) => editLuks2Json(p, edit));
  }
  const argonEdits: [string, (k: Json) => void][] = [
    ['memory=4194304', (k) => (k.memory = 4194304)],
    ['memory=4294967295', (k) => (k.memory = 4294967295)],
    ['memory=0', (k) => (k.memory = 0)],
    ['cpus=0', (k) => (k.cpus = 0)],
    ['cpus=4294967295', (k) => (k.cpus = 4294967295)],
    ['time=0', (k) => (k.time = 0)],
    ['time=4294967295', (k) => (k.time = 4294967295)],
    ['time=1000,memory=1048576', (k) => ((k.time = 1000), (k.memory = 1048576))],
  ];
  for (const [label, edit] of argonEdits) {
    await variant('l2a.luks', true, `argon2:${label}`, (p) =>
      editLuks2Json(p, (j) => edit(slot(j).kdf))
    );
  }
  const texts: [string, string][] = [
    ['json=arrays-deep', '['.repeat(6000)],
    ['json=objects-deep', '{"a":'.repeat(2000)],
    ['json=not-json', 'not json at all'],
    ['json=empty', ''],
    ['json=huge-number', '{"keyslots":{"0":1e999999}}'],
    [
      'json=many-keyslots',
      JSON.stringify({
        keyslots: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [String(i), {}])),
      }),
    ],
  ];
  for (const [label, text] of texts) {
    await variant('l2.luks', true, `luks2:${label}`, (p) => writeLuks2JsonArea(p, text));
  }
  entries.push(...(await backingCases(out, baseDir)));
  return entries;
}

function nest(depth: number): Json {
  let v: Json = {};
  for (let i = 0; i < depth; i++) v = { a: v };
  return v;
}

/** Overlays whose backing file is hostile, plus the special files themselves. */
async function backingCases(out: string, baseDir: string): Promise<CorpusEntry[]> {
  const entries: CorpusEntry[] = [];
  const fifo = join(out, 'a-fifo');
  await runOk('mkfifo', [fifo]);
  const folder = join(out, 'a-folder');
  await mkdir(folder);
  const overlay = async (name: string, backing: string) => {
    const p = join(out, name);
    await runOk('qemu-img', ['create', '-f', 'qcow2', '-u', '-b', backing, '-F', 'raw', p, '4M']);
    entries.push({ path: p, label: `backing:${name}`, encrypted: false });
    return p;
  };
  for (const [name, target] of [
    ['b-fifo.qcow2', fifo],
    ['b-zero.qcow2', '/dev/zero'],
    ['b-null.qcow2', '/dev/null'],
    ['b-dir.qcow2', folder],
    ['b-mem.qcow2', '/proc/self/mem'],
    ['b-missing.qcow2', join(out, 'nowhere')],
  ] as const) {
    await overlay(name, target);
  }
  // A loop through itself and one through two images.
  const self = join(out, 'b-self.qcow2');
  await runOk('qemu-img', [
    'create',
    '-f',
    'qcow2',
    '-u',
    '-b',
    'b-self.qcow2',
    '-F',
    'qcow2',
    self,
    '4M',
  ]);
  const la = join(out, 'b-loopa.qcow2');
  await runOk('qemu-img', [
    'create',
    '-f',
    'qcow2',
    '-u',
    '-b',
    'b-loopb.qcow2',
    '-F',
    'qcow2',
    la,
    '4M',
  ]);
  await runOk('qemu-img', [
    'create',
    '-f',
    'qcow2',
    '-u',
    '-b',
    'b-loopa.qcow2',
    '-F',
    'qcow2',
    join(out, 'b-loopb.qcow2'),
    '4M',
  ]);
  entries.push({ path: self, label: 'backing:self-loop', encrypted: false });
  entries.push({ path: la, label: 'backing:two-loop', encrypted: false });
  // 300-deep chain: one overlay copied with its fixed-length backing name rewritten.
  const chainDir = join(out, 'chain');
  await mkdir(chainDir);
  const tmpl = join(chainDir, 'tmpl.qcow2');
  await runOk('qemu-img', [
    'create',
    '-f',
    'qcow2',
    '-u',
    '-b',
    'L0001.qcow2',
    '-F',
    'qcow2',
    tmpl,
    '4M',
  ]);
  const t = await readFile(tmpl);
  const nameAt = Number(t.readBigUInt64BE(8));
  for (let i = 0; i < 300; i++) {
    const b = Buffer.from(t);
    b.write(`L${String(i + 1).padStart(4, '0')}.qcow2`, nameAt, 'latin1');
    await writeFile(join(chainDir, `L${String(i).padStart(4, '0')}.qcow2`), b);
  }
  await copyFile(join(baseDir, 'q3.qcow2'), join(chainDir, 'L0300.qcow2'));
  entries.push({
    path: join(chainDir, 'L0000.qcow2'),
    label: 'backing:chain-300',
    encrypted: false,
  });
  entries.push({ path: fifo, label: 'special:fifo', encrypted: false });
  entries.push({ path: folder, label: 'special:directory', encrypted: false });
  entries.push({ path: '/proc/self/mem', label: 'special:proc-self-mem', encrypted: false });
  entries.push({ path: '/dev/zero', label: 'special:dev-zero', encrypted: false });
  return entries;
}
