// Server-Timing header (W3C): one entry per phase, durations in milliseconds. Pure, shared by the API and client.

export function formatServerTiming(phases: Record<string, number>): string {
  return Object.entries(phases)
    .map(([name, ms]) => `${name};dur=${ms.toFixed(3)}`)
    .join(', ');
}

export function parseServerTiming(header: string | undefined): Record<string, number> {
  const phases: Record<string, number> = {};
  if (!header) return phases;
  for (const entry of header.split(',')) {
    const [name, ...params] = entry.trim().split(';');
    if (!name) continue;
    const dur = params.map((p) => p.trim()).find((p) => p.startsWith('dur='));
    phases[name] = dur ? Number(dur.slice(4)) : 0;
  }
  return phases;
}
