// A bounded parser for what an instance or a Zygote says about itself (a reply's header, an error body, an
// answer): one flat JSON object (values are
// strings, finite numbers, booleans or null; no nesting), at most maxBytes. Both run untrusted code and write
// their own frames on their channel: a deeply nested value would cost the daemon's event loop seconds to build
// and again to serialise, so nesting is refused by a linear scan before anything is parsed. Pure.

import { ProtocolError } from './errors';

export type FlatValue = string | number | boolean | null;
export type FlatObject = Record<string, FlatValue>;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Parses one flat JSON object; throws a ProtocolError saying why not. */
export function parseFlatObject(data: Buffer, maxBytes: number): FlatObject {
  if (data.length > maxBytes) throw new ProtocolError(`${data.length} bytes, more than the ${maxBytes} allowed`);
  let opened = 0;
  let inString = false;
  for (let i = 0; i < data.length; i++) {
    const byte = data[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN_BRACKET || (byte === OPEN_BRACE && ++opened > 1)) throw new ProtocolError('nested values are not allowed');
  }
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw new ProtocolError(`not JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ProtocolError('not a JSON object');
  for (const [key, v] of Object.entries(value)) {
    // JSON.parse reads 1e999 as Infinity
    if (typeof v === 'number' && !Number.isFinite(v)) throw new ProtocolError(`${key}: not a finite number`);
  }
  return value as FlatObject;
}

/** A number field in [min, max]; throws otherwise (a forged timing must not reach the statistics). */
export function numberIn(object: FlatObject, key: string, min: number, max: number): number {
  const v = object[key];
  if (typeof v !== 'number' || !(v >= min && v <= max)) throw new ProtocolError(`${key}: ${JSON.stringify(v)} is not a number in [${min}, ${max}]`);
  return v;
}
