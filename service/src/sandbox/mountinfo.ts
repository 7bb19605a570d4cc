// Reading /proc/self/mountinfo: which mounts lie at or under a directory. Pure, so it is unit-tested.

/** Mount points (field 5 of each line) at or below `dir`, deepest first: the order to unmount them in. */
export function mountsUnder(mountinfo: string, dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  const found: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    if (fields.length < 5) continue;
    const point = unescapeOctal(fields[4]);
    if (point === dir || point.startsWith(prefix)) found.push(point);
  }
  // deeper paths first; among equal paths (stacked mounts) the later line is on top
  return found
    .map((point, i) => ({ point, i }))
    .sort((a, b) => b.point.split('/').length - a.point.split('/').length || b.i - a.i)
    .map((m) => m.point);
}

/** mountinfo escapes space, tab, newline and backslash as \ooo */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}
