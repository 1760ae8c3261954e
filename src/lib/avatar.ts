/**
 * Generated avatars as Nextcloud draws them: the first letter of the name, white on a colour
 * derived from the account id, as a PNG (every client decodes PNG; not all decode SVG). The dark
 * variant uses a darker shade of the same colour. The letter comes from a 5×7 bitmap font scaled
 * to the size, so no font renderer is needed; the PNG is zlib-compressed with CompressionStream.
 */

/** 5×7 glyphs, one string of 35 bits per character, row by row. */
const GLYPHS: Record<string, string> = {
  A: "01110100011000111111100011000110001",
  B: "11110100011000111110100011000111110",
  C: "01110100011000010000100001000101110",
  D: "11110100011000110001100011000111110",
  E: "11111100001000011110100001000011111",
  F: "11111100001000011110100001000010000",
  G: "01110100011000010111100011000101111",
  H: "10001100011000111111100011000110001",
  I: "01110001000010000100001000010001110",
  J: "00111000100001000010000101001001100",
  K: "10001100101010011000101001001010001",
  L: "10000100001000010000100001000011111",
  M: "10001110111010110101100011000110001",
  N: "10001100011100110101100111000110001",
  O: "01110100011000110001100011000101110",
  P: "11110100011000111110100001000010000",
  Q: "01110100011000110001101011001001101",
  R: "11110100011000111110101001001010001",
  S: "01111100001000001110000010000111110",
  T: "11111001000010000100001000010000100",
  U: "10001100011000110001100011000101110",
  V: "10001100011000110001100010101000100",
  W: "10001100011000110101101011101110001",
  X: "10001100010101000100010101000110001",
  Y: "10001100010101000100001000010000100",
  Z: "11111000010001000100010001000011111",
  "0": "01110100011001110101110011000101110",
  "1": "00100011000010000100001000010001110",
  "2": "01110100010000100010001000100011111",
  "3": "11111000100010000010000011000101110",
  "4": "00010001100101010010111110001000010",
  "5": "11111100001111000001000011000101110",
  "6": "00110010001000011110100011000101110",
  "7": "11111000010001000100010000100001000",
  "8": "01110100011000101110100011000101110",
  "9": "01110100011000101111000010001001100",
  "?": "01110100010000100010001000000000100",
};

/** Nextcloud-like palette: the colour is picked by a hash of the account id. */
const PALETTE: [number, number, number][] = [
  [0x0b, 0x6b, 0xcb],
  [0x1b, 0x8a, 0x5a],
  [0xc9, 0x3c, 0x20],
  [0x8e, 0x44, 0xad],
  [0xd3, 0x54, 0x00],
  [0x16, 0xa0, 0x85],
  [0xc0, 0x39, 0x2b],
  [0x27, 0x6a, 0x9f],
  [0x6d, 0x4c, 0x41],
  [0x00, 0x83, 0x8f],
  [0xad, 0x14, 0x57],
  [0x55, 0x62, 0x70],
];

export function avatarLetter(name: string): string {
  const first = [...name.trim()][0]?.toUpperCase() ?? "?";
  const plain = first.normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  return GLYPHS[plain] ? plain : "?";
}

export async function avatarColor(id: string): Promise<[number, number, number]> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", new TextEncoder().encode(id)));
  return PALETTE[(digest[0] ?? 0) % PALETTE.length] as [number, number, number];
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

async function deflate(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A square PNG of `size` pixels: `letter` in white (light) or near-white (dark) on `color`. */
export async function renderAvatar(letter: string, color: [number, number, number], size: number, dark: boolean): Promise<Uint8Array> {
  const glyph = GLYPHS[letter] ?? (GLYPHS["?"] as string);
  const bg = dark ? color.map((v) => Math.round(v * 0.65)) : color;
  const fg = dark ? [0xe8, 0xec, 0xf0] : [0xff, 0xff, 0xff];
  const scale = Math.max(1, Math.floor((size * 0.5) / 7));
  const left = Math.floor((size - 5 * scale) / 2);
  const top = Math.floor((size - 7 * scale) / 2);
  const stride = size * 3 + 1;
  const raw = new Uint8Array(stride * size);
  for (let y = 0; y < size; y++) {
    const row = y * stride;
    raw[row] = 0; // filter: none
    const gy = Math.floor((y - top) / scale);
    for (let x = 0; x < size; x++) {
      const gx = Math.floor((x - left) / scale);
      const on = y >= top && x >= left && gy < 7 && gx < 5 && glyph[gy * 5 + gx] === "1";
      const px = on ? fg : bg;
      raw.set(px as number[], row + 1 + x * 3);
    }
  }
  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, size);
  hv.setUint32(4, size);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter set, no interlace
  const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", header), chunk("IDAT", await deflate(raw)), chunk("IEND", new Uint8Array())];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Nextcloud serves two sizes: 64 for anything up to 64, 512 above. */
export function avatarSize(requested: number): number {
  return requested <= 64 ? 64 : 512;
}
