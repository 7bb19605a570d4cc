// Server-Timing header (W3C): one entry per phase, durations in milliseconds. Pure, shared by the API, the
// client and the panel's HTTP bridge.

export function formatServerTiming(phases: Record<string, number>): string {
  return Object.entries(phases)
    .map(([name, ms]) => `${name};dur=${ms.toFixed(3)}`)
    .join(', ');
}

/** `name;dur=1.23, other;dur=4` → {name: 1.23, other: 4}; a missing or unreadable duration is 0. */
export function parseServerTiming(header: string | null | undefined): Record<string, number> {
  const phases: Record<string, number> = {};
  if (!header) return phases;
  for (const entry of header.split(',')) {
    const [name, ...params] = entry.trim().split(';');
    if (!name) continue;
    const dur = params.map((p) => p.trim()).find((p) => p.startsWith('dur='));
    const ms = dur ? Number(dur.slice(4)) : 0;
    phases[name.trim()] = Number.isFinite(ms) ? ms : 0;
  }
  return phases;
}
