// The Zygote tree as GET /v1/zygotes shows it, and the live figures of GET /v1/status.

export interface ZygoteInfo {
  id: string;
  parent: string | null;
  packages: string[];
  state: 'starting' | 'running' | 'frozen' | 'dead';
  pid: number | null;
  hits: number;
  memoryBytes: number;
  children: string[];
  functions: string[];
  lastUsed: string;
}

export type ZygoteStats = { count: number; memoryBytes: number; processes: number };
