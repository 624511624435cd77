/**
 * CRC-32 (IEEE 802.3, the polynomial of zip and zlib) of a byte range. node:zlib has `crc32()`
 * only since Node.js 20.15 / 22.2, and its presence on every line in `engines` is not something the
 * journal's integrity should rest on; a 1 KB table is all it takes, with no dependency to install.
 */

const TABLE = buildTable();

function buildTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
