// What a wheel unpacks to, read from its zip central directory before pip runs: a few MB of wheel can hold
// gigabytes of zeros (a zip bomb), and pip would write them all to the host's disk. Python's zipfile, which
// pip extracts with, never writes more of an entry than the size its central directory declares, so the sum
// read here bounds what the install writes (plus the .pyc files pip compiles, checked after the install).

import yauzl from 'yauzl';

export interface WheelTotals {
  files: number;
  uncompressedBytes: number;
}

export interface WheelBounds {
  maxBytes: number;
  maxFiles: number;
}

/** Thrown when a wheel would unpack to more than the bounds (with what was counted so far). */
export class WheelTooLarge extends Error {
  constructor(
    message: string,
    readonly totals: WheelTotals,
  ) {
    super(message);
  }
}

/**
 * Sums the entries of the zip at `file`; rejects with WheelTooLarge as soon as a bound is passed (the entry
 * count is in the end-of-central-directory record: too many files is seen before any entry is read), or with
 * yauzl's error when it is not a valid zip.
 */
export function wheelTotals(file: string, bounds: WheelBounds): Promise<WheelTotals> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error(`${file}: not a zip`));
      const totals: WheelTotals = { files: 0, uncompressedBytes: 0 };
      const fail = (e: Error) => {
        zip.close();
        reject(e);
      };
      if (zip.entryCount > bounds.maxFiles) {
        return fail(new WheelTooLarge(`it holds ${zip.entryCount} files, more than the ${bounds.maxFiles} allowed`, { files: zip.entryCount, uncompressedBytes: 0 }));
      }
      zip.on('entry', (entry: yauzl.Entry) => {
        totals.files++;
        totals.uncompressedBytes += entry.uncompressedSize;
        if (totals.uncompressedBytes > bounds.maxBytes) {
          return fail(new WheelTooLarge(`it unpacks to more than ${mb(bounds.maxBytes)} MB (the limit)`, totals));
        }
        zip.readEntry();
      });
      zip.on('end', () => resolve(totals));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

function mb(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}
