// Functions as the API shows them (GET/PUT /v1/functions) and a call's outcome as the client reads it
// (POST /run/:name).

import type { ErrorBody } from './errors';

export interface FunctionInfo {
  name: string;
  version: number;
  /** the uid that deployed it: only it and root may redeploy, delete or read environment values */
  owner: number;
  /** where the client said the folder came from (shown only) */
  source: string;
  /** the environment's variable names (always) */
  environmentKeys: string[];
  /** the values: only for the owner or root, and only from getFunction and deploy */
  environment?: Record<string, string>;
  limits: Record<string, number>;
  requirements: Array<{ name: string; version: string | null }>;
  /** the resolved closure, name==version */
  packages: string[];
  deployedAt: string;
}

export interface RunResult {
  status: number;
  tier: string | null;
  sandbox: string | null;
  /** Server-Timing phases in ms */
  timings: Record<string, number>;
  /** the function's return value, when status is 200 */
  result?: unknown;
  /** the error body otherwise */
  error?: ErrorBody['error'];
}
