/** Decompression of compressed clusters (docs/spec/qcow2.md §6): raw deflate or zstd. */
import { constants, inflateRawSync } from 'node:zlib';
import { Decompress, decompress as zstdDecompress } from 'fzstd';
import { fail } from '../../api/errors.js';

/**
 * Decompresses one cluster. The output must be exactly `clusterSize` bytes; bytes after the
 * end of the stream are ignored, as QEMU does.
 */
export function decompressCluster(data: Uint8Array, clusterSize: number, type: 0 | 1): Uint8Array {
  const out = type === 0 ? inflate(data, clusterSize) : unzstd(data, clusterSize);
  if (out.length !== clusterSize) {
    throw fail(
      'CORRUPT',
      `Compressed cluster decompressed to ${out.length} bytes, not ${clusterSize}`
    );
  }
  return out;
}

function inflate(data: Uint8Array, clusterSize: number): Uint8Array {
  try {
    const out = inflateRawSync(data, {
      finishFlush: constants.Z_SYNC_FLUSH,
      maxOutputLength: clusterSize,
    });
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  } catch (e) {
    throw fail('CORRUPT', 'A compressed cluster is not a valid deflate stream', e);
  }
}

function unzstd(data: Uint8Array, clusterSize: number): Uint8Array {
  try {
    return zstdDecompress(data, new Uint8Array(clusterSize));
  } catch {
    // Trailing bytes after the frame: stream until a cluster's worth has been produced.
    const out = new Uint8Array(clusterSize);
    let got = 0;
    try {
      const d = new Decompress((chunk) => {
        const n = Math.min(chunk.length, clusterSize - got);
        out.set(chunk.subarray(0, n), got);
        got += n;
      });
      for (let i = 0; i < data.length && got < clusterSize; i += 512) {
        d.push(data.subarray(i, Math.min(data.length, i + 512)));
      }
    } catch (e) {
      if (got < clusterSize)
        throw fail('CORRUPT', 'A compressed cluster is not a valid zstd frame', e);
    }
    return out.subarray(0, got);
  }
}
