// Benchmark progress: what a suite reports as it goes (a message and, when it knows, how far it is, 0..1), how
// `--progress-json` writes it (one JSON line per step on stderr, so it survives the re-exec into a private mount
// namespace, which passes on stdio 0-2 only) and how the daemon's benchmark jobs read it back. Free of I/O.

/** A suite's progress callback: a message, and the fraction done when the suite knows it. */
export type ProgressFn = (message: string, fraction?: number) => void;

export interface ProgressLine {
  progress: number;
  message: string;
}

const clamp = (x: number) => Math.min(1, Math.max(0, x));

/**
 * A ProgressFn that writes each step through `write`: plain text lines, or with `json` one
 * `{"progress": 0..1, "message": "..."}` line per step (a step without a fraction carries the last one; the
 * fraction never goes backwards).
 */
export function progressWriter(json: boolean, write: (line: string) => void): ProgressFn {
  let last = 0;
  return (message, fraction) => {
    if (fraction !== undefined && Number.isFinite(fraction)) last = Math.max(last, clamp(fraction));
    write(json ? `${JSON.stringify({ progress: last, message } satisfies ProgressLine)}\n` : `${message}\n`);
  };
}

/** One `--progress-json` line, or null for any other line (a warning, a stack trace, plain text). */
export function parseProgressLine(line: string): ProgressLine | null {
  const text = line.trim();
  if (!text.startsWith('{')) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const { progress, message } = value as Record<string, unknown>;
  if (typeof progress !== 'number' || !Number.isFinite(progress) || typeof message !== 'string') return null;
  return { progress: clamp(progress), message };
}

/** Splits a byte stream into lines: push() chunks, get the complete lines; end() flushes the last one. */
export class LineSplitter {
  private rest = '';

  constructor(private readonly maxLine = 64 * 1024) {}

  push(chunk: string): string[] {
    const parts = (this.rest + chunk).split(/\r?\n/);
    this.rest = parts.pop() ?? '';
    // a line without an end must not grow without bound
    if (this.rest.length > this.maxLine) {
      parts.push(this.rest.slice(0, this.maxLine));
      this.rest = '';
    }
    return parts;
  }

  end(): string[] {
    const last = this.rest;
    this.rest = '';
    return last === '' ? [] : [last];
  }
}

/** Thrown by Interrupts.check() once Ctrl-C or SIGTERM arrived during a benchmark. */
export class Aborted extends Error {}

/**
 * Ctrl-C and SIGTERM during a benchmark: it stops after the current step and cleans up, instead of leaving
 * daemons, mounts and cgroups behind. check() rejects with Aborted once a signal came; dispose() stops listening.
 */
export function watchInterrupts(onProgress: ProgressFn): { check(): Promise<void>; dispose(): void } {
  let aborted: string | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    aborted = signal;
    onProgress(`${signal}: stopping after the current step and cleaning up`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    // A loop of awaits that settle at once (sync file and cgroup work) never lets the event loop run, and a
    // signal's handler runs only from there: check() yields to it first.
    check: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      if (aborted) throw new Aborted(`interrupted by ${aborted}`);
    },
    dispose: () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    },
  };
}
