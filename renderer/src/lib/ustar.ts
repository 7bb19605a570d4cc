// A ustar writer for the browser: tar-stream needs Node's stream machinery, which a page has not. Writing is
// the simple half of tar (and the daemon parses and checks every entry with a real tar library anyway): one
// 512-byte header per regular file, its bytes padded to 512, two zero blocks at the end.

const BLOCK = 512;
const encoder = new TextEncoder();

export interface TarFile {
  path: string;
  data: Uint8Array;
  mode?: number;
}

export function ustar(files: readonly TarFile[]): Uint8Array {
  const size = files.reduce((n, f) => n + BLOCK + Math.ceil(f.data.length / BLOCK) * BLOCK, 2 * BLOCK);
  const out = new Uint8Array(size);
  let at = 0;
  for (const file of files) {
    out.set(header(file), at);
    at += BLOCK;
    out.set(file.data, at);
    at += Math.ceil(file.data.length / BLOCK) * BLOCK;
  }
  return out;
}

function header(file: TarFile): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const [prefix, name] = splitPath(file.path);
  put(h, 0, 100, encoder.encode(name));
  put(h, 100, 8, octal(file.mode ?? 0o644, 8));
  put(h, 108, 8, octal(0, 8)); // uid
  put(h, 116, 8, octal(0, 8)); // gid
  put(h, 124, 12, octal(file.data.length, 12));
  put(h, 136, 12, octal(Math.floor(Date.now() / 1000), 12));
  h.fill(0x20, 148, 156); // the checksum counts its own field as spaces
  h[156] = 0x30; // '0': a regular file
  put(h, 257, 6, encoder.encode('ustar\0'));
  put(h, 263, 2, encoder.encode('00'));
  put(h, 345, 155, encoder.encode(prefix));
  const sum = h.reduce((n, b) => n + b, 0);
  put(h, 148, 8, encoder.encode(`${sum.toString(8).padStart(6, '0')}\0 `));
  return h;
}

/** ustar keeps up to 155 bytes of directories in `prefix` and 100 of the rest in `name`. */
function splitPath(path: string): [string, string] {
  const bytes = encoder.encode(path).length;
  if (bytes <= 100) return ['', path];
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (encoder.encode(name).length <= 100 && encoder.encode(prefix).length <= 155) return [prefix, name];
  }
  throw new Error(`${path}: the path is too long for the panel's upload (use \`sockpit deploy\`)`);
}

function octal(n: number, width: number): Uint8Array {
  return encoder.encode(`${n.toString(8).padStart(width - 1, '0')}\0`);
}

function put(h: Uint8Array, offset: number, width: number, bytes: Uint8Array): void {
  if (bytes.length > width) throw new Error('tar header field overflow');
  h.set(bytes, offset);
}
