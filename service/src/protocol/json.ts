// JSON text as both sides of the protocol write it: compact, and ASCII only (DEL and non-ASCII characters, lone
// surrogates included, as \uXXXX escapes), which is what Python's json writes with ensure_ascii (runtime
// protocol.py). So a message encodes to the same bytes in either language (test/fixtures/protocol-messages.json).
// Plain JSON.stringify when the text is ASCII already, the usual case: one scan more, no copy.

// Python escapes DEL (0x7f) too
const NON_ASCII = /[\u007f-\uffff]/g;

export function asciiJson(value: unknown): string {
  const text = JSON.stringify(value);
  NON_ASCII.lastIndex = 0;
  if (!NON_ASCII.test(text)) return text;
  return text.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
