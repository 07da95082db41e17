/**
 * The legacy-AES wrong-passphrase heuristic (docs/spec/legacy-aes.md §1: "no key check value. A
 * wrong passphrase is not detected; it just yields garbage"). We decrypt a spread sample of
 * allocated sectors with the candidate passphrase and ask whether they look like disk
 * content or like uniformly random bytes, which is what AES-CBC with a wrong key produces.
 * The method and its limits are described in docs/legacy-heuristic.md.
 */
import type { PassphraseAssessment } from '../api/types.js';
import type { GuestReader } from '../formats/image.js';
import { countDataBytes, dataRanges, MAP_WINDOW } from './extents.js';

export const SECTOR = 512;

/**
 * Per-sector thresholds. 200,000 sectors of `randomBytes(512)` measured a byte entropy of
 * 7.42..7.74 bits (mean 7.59) and a longest run of identical bytes of at most 4.
 */
export const RANDOM_MIN_ENTROPY = 7.2;
export const RANDOM_MAX_RUN = 6;

interface Signature {
  name: string;
  /** Offset of the magic within its 512-byte sector (absolute offset mod 512). */
  at: number;
  bytes: number[];
}

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** Well-known on-disk magics, located by their offset within a sector. */
const SIGNATURES: Signature[] = [
  { name: 'MBR boot signature', at: 510, bytes: [0x55, 0xaa] },
  { name: 'GPT header', at: 0, bytes: ascii('EFI PART') },
  { name: 'ext2/3/4 superblock', at: 1080 % SECTOR, bytes: [0x53, 0xef] },
  { name: 'NTFS boot sector', at: 3, bytes: ascii('NTFS    ') },
  { name: 'FAT12', at: 54, bytes: ascii('FAT12   ') },
  { name: 'FAT16', at: 54, bytes: ascii('FAT16   ') },
  { name: 'FAT32', at: 82, bytes: ascii('FAT32   ') },
  { name: 'XFS superblock', at: 0, bytes: ascii('XFSB') },
  { name: 'btrfs superblock', at: 64, bytes: ascii('_BHRfS_M') },
  { name: 'LVM label', at: 0, bytes: ascii('LABELONE') },
  { name: 'Linux swap', at: 4086 % SECTOR, bytes: ascii('SWAPSPACE2') },
  { name: 'ISO 9660', at: 1, bytes: ascii('CD001') },
  { name: 'LUKS header', at: 0, bytes: [...ascii('LUKS'), 0xba, 0xbe] },
  { name: 'qcow image', at: 0, bytes: [...ascii('QFI'), 0xfb] },
  { name: 'ELF executable', at: 0, bytes: [0x7f, ...ascii('ELF')] },
];

/** Measures of one decrypted sector. */
export interface SectorTraits {
  /** Shannon entropy of the byte histogram, in bits (0..8). */
  entropy: number;
  /** Longest run of one repeated byte value. */
  longestRun: number;
  /** Share of printable ASCII / whitespace bytes. */
  asciiShare: number;
  signatures: string[];
  random: boolean;
}

/** Computes the traits of one sector and whether it looks uniformly random. */
export function sectorTraits(sector: Uint8Array): SectorTraits {
  const counts = new Uint32Array(256);
  let run = 1;
  let longestRun = sector.length > 0 ? 1 : 0;
  let printable = 0;
  for (let i = 0; i < sector.length; i++) {
    const b = sector[i] as number;
    counts[b] = (counts[b] as number) + 1;
    if ((b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d) printable++;
    if (i > 0 && b === sector[i - 1]) {
      run++;
      if (run > longestRun) longestRun = run;
    } else run = 1;
  }
  let entropy = 0;
  for (const n of counts) {
    if (n === 0) continue;
    const p = n / sector.length;
    entropy -= p * Math.log2(p);
  }
  const signatures = SIGNATURES.filter((s) => matches(sector, s)).map((s) => s.name);
  const random =
    signatures.length === 0 && entropy >= RANDOM_MIN_ENTROPY && longestRun <= RANDOM_MAX_RUN;
  return {
    entropy,
    longestRun,
    asciiShare: sector.length ? printable / sector.length : 0,
    signatures,
    random,
  };
}

/** Random-looking apart from 2-byte magics only. */
function isWeak(t: SectorTraits): boolean {
  const statisticallyRandom = t.entropy >= RANDOM_MIN_ENTROPY && t.longestRun <= RANDOM_MAX_RUN;
  return (
    statisticallyRandom &&
    t.signatures.every((n) => (SIGNATURES.find((s) => s.name === n)?.bytes.length ?? 0) <= 2)
  );
}

function matches(sector: Uint8Array, s: Signature): boolean {
  if (sector.length < s.at + s.bytes.length) return false;
  return s.bytes.every((b, i) => sector[s.at + i] === b);
}

/**
 * Judges decrypted sectors: `random` when (nearly) all look uniformly random, `plausible`
 * otherwise, `no-data` for an empty sample. A sector that is random apart from a 2-byte magic
 * (which random bytes match by chance once in 65536) is "weak" evidence: up to one in fifty
 * weak sectors is tolerated in a random verdict. Any other structured sector — low entropy,
 * a long run, a longer magic — makes the sample plausible.
 */
export function assessDecryptedSample(sectors: Uint8Array[]): PassphraseAssessment {
  const signatures = new Set<string>();
  let randomSectors = 0;
  let plausibleSectors = 0;
  let strong = 0;
  for (const s of sectors) {
    const t = sectorTraits(s);
    if (t.random) randomSectors++;
    else plausibleSectors++;
    if (!t.random && !isWeak(t)) strong++;
    for (const name of t.signatures) signatures.add(name);
  }
  const sampled = sectors.length;
  const base = { sampledSectors: sampled, plausibleSectors, randomSectors };
  if (sampled === 0) {
    return {
      verdict: 'no-data',
      ...base,
      signatures: [],
      explanation: 'The image holds no allocated data, so the passphrase cannot be checked',
    };
  }
  if (strong === 0 && plausibleSectors <= Math.floor(sampled / 50)) {
    return {
      verdict: 'random',
      ...base,
      signatures: [],
      explanation:
        `${randomSectors} of ${sampled} sampled sectors decrypt to random-looking bytes, ` +
        'as a wrong passphrase produces (an image holding only encrypted or compressed data ' +
        'looks the same)',
    };
  }
  const found = [...signatures];
  return {
    verdict: 'plausible',
    ...base,
    signatures: found,
    explanation:
      `${plausibleSectors} of ${sampled} sampled sectors decrypt to structured data` +
      (found.length ? ` (found: ${found.join(', ')})` : ''),
  };
}

/** Guest sectors where well-known signatures live: boot sector, GPT, ext, swap, ISO, btrfs. */
const PRIORITY_SECTORS = [0, 1, 2, 7, 64, 128];

/**
 * Reads a spread sample of allocated sectors through `reader` (which decrypts with the
 * candidate passphrase) and judges them with `assessDecryptedSample`.
 * Sampled: the signature sectors that are allocated, then sectors spread evenly over the
 * data extents; at most `maxSectors` (default 64) 512-byte reads.
 */
export async function samplePlausibility(
  reader: GuestReader,
  opts: { maxSectors?: number } = {}
): Promise<PassphraseAssessment> {
  const max = Math.max(1, Math.floor(opts.maxSectors ?? 64));
  if (reader.virtualSize < SECTOR) return assessDecryptedSample([]);
  const offsets = new Set<number>();
  for (const s of PRIORITY_SECTORS) {
    if (offsets.size >= Math.ceil(max / 4)) break;
    const off = s * SECTOR;
    if (off + SECTOR > reader.virtualSize) continue;
    if ((await dataRanges(reader, off, SECTOR)).length > 0) offsets.add(off);
  }
  const dataBytes = await countDataBytes(reader);
  const spread = Math.min(max - offsets.size, Math.floor(dataBytes / SECTOR));
  if (spread > 0) {
    // The k-th sample sits at data-byte position (k + 0.5) * dataBytes / spread.
    const targets = Array.from({ length: spread }, (_, k) =>
      Math.floor(((k + 0.5) * dataBytes) / spread)
    );
    let seen = 0;
    let k = 0;
    for (let w = 0; w < reader.virtualSize && k < targets.length; w += MAP_WINDOW) {
      for (const r of await dataRanges(reader, w, MAP_WINDOW)) {
        const len = r.end - r.start;
        while (k < targets.length && (targets[k] as number) < seen + len) {
          let off = r.start + ((targets[k] as number) - seen);
          off = Math.min(off - (off % SECTOR), reader.virtualSize - SECTOR);
          offsets.add(Math.max(0, off));
          k++;
        }
        seen += len;
      }
    }
  }
  const sectors: Uint8Array[] = [];
  for (const off of [...offsets].sort((a, b) => a - b)) {
    const buf = new Uint8Array(SECTOR);
    await reader.read(buf, off);
    sectors.push(buf);
  }
  return assessDecryptedSample(sectors);
}
