// `sockpit status`: the kernel line and one line per protection. Pure, from the /v1/status body.
import type { StatusBody } from '../../../api';

export function formatKernel(s: Pick<StatusBody, 'kernel' | 'protections'>): string[] {
  // a daemon from before issue 17 sends neither
  if (!s.kernel || !s.protections) return [];
  const k = s.kernel;
  const abi = k.landlockAbiUsed === k.landlockAbi ? `${k.landlockAbi}` : `${k.landlockAbi} (using ${k.landlockAbiUsed})`;
  const has = (on: boolean, name: string) => `${name} ${on ? 'yes' : 'no'}`;
  return [
    `kernel ${k.release}: Landlock ABI ${abi}, ${has(k.userns, 'user namespaces')}, ${has(k.seccomp, 'seccomp')}, ` +
      `${has(k.cgroupFreeze, 'cgroup.freeze')}, ${has(k.cgroupKill, 'cgroup.kill')}`,
    ...s.protections.map((p) => `protection ${p.name}: ${p.state === 'covered' ? `covered by ${p.coveredBy}` : p.state} (${p.detail})`),
  ];
}
