// The typed client of sockpitd's API: the one way the CLI, the panel, benchmarks and tests talk to the daemon.
// HTTP/1.1 over the unix socket with keep-alive (undici).

import path from 'node:path';
import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import {
  DEFAULT_SOCKET,
  parseServerTiming,
  SANDBOX_HEADER,
  SERVER_TIMING_HEADER,
  SOURCE_HEADER,
  TIER_HEADER,
  type BenchmarkJob,
  type BenchmarkSuite,
  type ErrorBody,
  type FunctionInfo,
  type Published,
  type RunResult,
  type StatsBody,
  type StatusBody,
  type ZygoteInfo,
} from '../../../api';
import { ApiError, toApiError } from './api-error';
import { followEvents, FollowOptions } from './telemetry';

export { ApiError };
import { packFolder } from './pack';

export { DEFAULT_SOCKET };
export type { FunctionInfo, RunResult } from '../../../api';

export function socketFromEnv(explicit?: string): string {
  return explicit ?? process.env.SOCKPIT_SOCKET ?? DEFAULT_SOCKET;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export class SockpitClient {
  private readonly client: Pool;

  constructor(readonly socketPath: string = socketFromEnv()) {
    // several connections: a call holds its connection until the function returns
    this.client = new Pool('http://sockpitd', {
      socketPath,
      connections: 64,
      pipelining: 1,
      keepAliveTimeout: 10_000,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  async request(method: string, path: string, body?: Buffer | string | Readable, headers?: Record<string, string>): Promise<RawResponse> {
    const res = await this.client.request({
      method: method as 'GET',
      path,
      body,
      headers: headers ?? (body === undefined ? {} : { 'content-type': 'application/json' }),
    });
    const chunks: Buffer[] = [];
    for await (const chunk of res.body) chunks.push(chunk as Buffer);
    return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) };
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request(method, path, body === undefined ? undefined : JSON.stringify(body));
    if (res.status >= 400) throw errorOf(res);
    return (res.body.length ? JSON.parse(res.body.toString('utf8')) : undefined) as T;
  }

  status(): Promise<StatusBody> {
    return this.json('GET', '/v1/status');
  }

  async listFunctions(): Promise<FunctionInfo[]> {
    return (await this.json<{ functions: FunctionInfo[] }>('GET', '/v1/functions')).functions;
  }

  getFunction(name: string): Promise<FunctionInfo> {
    return this.json('GET', `/v1/functions/${encodeURIComponent(name)}`);
  }

  /** Deploys the folder `dir`: read here, as the caller, and sent to the daemon as a tar stream. */
  deploy(name: string, dir: string): Promise<FunctionInfo> {
    return this.deployTar(name, packFolder(dir), path.resolve(dir));
  }

  /** Deploys a function folder already packed as a tar stream (`source` is only shown: the daemon never opens it). */
  async deployTar(name: string, tar: Readable | Buffer | Uint8Array, source?: string): Promise<FunctionInfo> {
    const headers: Record<string, string> = { 'content-type': 'application/x-tar' };
    if (source !== undefined) headers[SOURCE_HEADER] = encodeSource(source);
    const res = await this.request('PUT', `/v1/functions/${encodeURIComponent(name)}`, Buffer.isBuffer(tar) || tar instanceof Uint8Array ? Buffer.from(tar) : tar, headers);
    if (res.status >= 400) throw errorOf(res);
    return JSON.parse(res.body.toString('utf8')) as FunctionInfo;
  }

  async remove(name: string): Promise<void> {
    await this.json('DELETE', `/v1/functions/${encodeURIComponent(name)}`);
  }

  /** Invokes a function with `event` encoded as JSON. Never throws for an HTTP error status: the result
   *  carries it. */
  run(name: string, event: unknown = null): Promise<RunResult> {
    return this.runRaw(name, JSON.stringify(event));
  }

  /** Invokes a function with a body sent as it is (JSON text typed by a user, or deliberately malformed). */
  async runRaw(name: string, body: string | Buffer): Promise<RunResult> {
    const res = await this.request('POST', `/run/${encodeURIComponent(name)}`, body);
    const out: RunResult = {
      status: res.status,
      tier: header(res, TIER_HEADER),
      sandbox: header(res, SANDBOX_HEADER),
      timings: parseServerTiming(header(res, SERVER_TIMING_HEADER) ?? undefined),
    };
    const parsed = res.body.length ? JSON.parse(res.body.toString('utf8')) : null;
    if (res.status === 200) out.result = parsed;
    else out.error = (parsed as ErrorBody | null)?.error ?? { code: 'internal', message: `HTTP ${res.status}` };
    return out;
  }

  async zygotes(): Promise<ZygoteInfo[]> {
    return (await this.json<{ zygotes: ZygoteInfo[] }>('GET', '/v1/zygotes')).zygotes;
  }

  stats(): Promise<StatsBody> {
    return this.json('GET', '/v1/stats');
  }

  async metrics(): Promise<string> {
    const res = await this.request('GET', '/metrics');
    if (res.status >= 400) throw errorOf(res);
    return res.body.toString('utf8');
  }

  /** Follows GET /v1/events until the stream ends or opts.signal aborts. */
  followEvents(onEvent: (e: Published) => void, opts?: FollowOptions): Promise<void> {
    return followEvents(this.socketPath, onEvent, opts);
  }

  close(): Promise<void> {
    return this.client.close();
  }

  /** Starts a benchmark suite on the daemon (409 while another runs); follow it with followEvents or benchmark(id). */
  startBenchmark(suite: BenchmarkSuite, opts: { iterations?: number } = {}): Promise<BenchmarkJob> {
    return this.json('POST', '/v1/benchmarks', { suite, ...(opts.iterations === undefined ? {} : { iterations: opts.iterations }) });
  }

  /** The daemon's benchmark jobs, newest first. */
  async benchmarks(): Promise<BenchmarkJob[]> {
    return (await this.json<{ benchmarks: BenchmarkJob[] }>('GET', '/v1/benchmarks')).benchmarks;
  }

  benchmark(id: string): Promise<BenchmarkJob> {
    return this.json('GET', `/v1/benchmarks/${encodeURIComponent(id)}`);
  }
}

/** A header value must be printable ASCII: other characters are %-escaped (it is a label, never a path used). */
function encodeSource(source: string): string {
  return source.replace(/[^\x20-\x7e]|%/g, (c) => encodeURIComponent(c)).slice(0, 512);
}

function header(res: RawResponse, name: string): string | null {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value ?? null;
}

function errorOf(res: RawResponse): ApiError {
  return toApiError(res.status, res.body.toString('utf8'));
}
