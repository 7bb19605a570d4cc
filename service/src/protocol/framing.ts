// The framing of every channel between sockpitd and its runtime processes (Zygotes and instances,
// service/runtime/protocol.py the other side): a 4-byte big-endian length, then the payload. Pure: no sockets
// here. What a payload holds is for zygote-messages.ts and instance-messages.ts.

import { FrameTooLarge } from './errors';

export const MAX_FRAME_BYTES = 1 << 30;
export const FRAME_HEADER_BYTES = 4;

export function encodeFrame(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

/** Accumulates stream chunks and yields whole frames. Throws FrameTooLarge when a frame announces more than maxBytes. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxBytes = MAX_FRAME_BYTES) {}

  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.buffered < FRAME_HEADER_BYTES) break;
      if (this.chunks[0].length < FRAME_HEADER_BYTES) this.chunks = [Buffer.concat(this.chunks)];
      const size = this.chunks[0].readUInt32BE(0);
      if (size > this.maxBytes) throw new FrameTooLarge(`frame of ${size} bytes exceeds the ${this.maxBytes}-byte limit`);
      // the chunks of a large frame are joined once, when it is whole: joining at each chunk copied it
      // again every time (quadratic in its size)
      if (this.buffered < FRAME_HEADER_BYTES + size) break;
      const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      frames.push(all.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + size));
      const rest = all.subarray(FRAME_HEADER_BYTES + size);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
    }
    return frames;
  }

  /** bytes received that do not yet make a whole frame */
  get pending(): number {
    return this.buffered;
  }
}
