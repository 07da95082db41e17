// `npm run bench` row for master-key rotation (README "Master-key rotation"): rekey of a 1 GiB
// dense qcow2+LUKS image against our own convert of the same image (qcow2+LUKS → qcow2+LUKS,
// decrypt and encrypt in one pass, verify off), several rounds, alternating, each run on a
// fresh copy; times and peak RSS as ranges. Target (issue #17): rekey within 1.5× convert,
// peak RSS < 300 MiB. `npm run bench -- --rekey-only` runs just this row.
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * @param {{ ours: (...args: string[]) => { s: number, rssMiB: number, cpu: number },
 *   dir: string, pw: string, source: string, rounds: number }} o  `source`: a 1 GiB random raw
 */
export function benchRekey(o) {
  const img = join(o.dir, 'rk.qcow2');
  const work = join(o.dir, 'rk-work.qcow2');
  const out = join(o.dir, 'rk-out.qcow2');
  const enc = ['-O', 'qcow2', '--encrypt', '-o', 'iter-time=10', '--passphrase-file', o.pw];
  o.ours('convert', '--no-verify', ...enc, o.source, img);
  const rekey = [];
  const convert = [];
  for (let i = 0; i < o.rounds; i++) {
    copyFileSync(img, work);
    rekey.push(o.ours('rekey', '--passphrase-file', o.pw, work));
    rmSync(out, { force: true });
    convert.push(
      o.ours('convert', '--no-verify', ...enc, '--source-passphrase-file', o.pw, img, out)
    );
  }
  rmSync(work, { force: true });
  rmSync(out, { force: true });
  rmSync(img, { force: true });
  const range = (xs, f, d = 2) =>
    `${Math.min(...xs.map(f)).toFixed(d)}–${Math.max(...xs.map(f)).toFixed(d)}`;
  const best = (xs) => Math.min(...xs.map((x) => x.s));
  const ratios = rekey.map((r, i) => r.s / convert[i].s);
  console.log(
    `rekey 1 GiB dense qcow2+LUKS in place          ${range(rekey, (x) => x.s)} s (CPU ${range(rekey, (x) => x.cpu)} s), ` +
      `peak RSS ${range(rekey, (x) => x.rssMiB, 0)} MiB\n` +
      `  our convert of the same image               ${range(convert, (x) => x.s)} s (CPU ${range(convert, (x) => x.cpu)} s), ` +
      `peak RSS ${range(convert, (x) => x.rssMiB, 0)} MiB\n` +
      `  rekey / convert: best ${(best(rekey) / best(convert)).toFixed(2)}×, per round ${range(ratios, (x) => x)}× ` +
      `(target ≤ 1.5×, RSS < 300 MiB; ${o.rounds} rounds)`
  );
  return { rekey, convert, ratio: best(rekey) / best(convert) };
}
