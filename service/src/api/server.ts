// The HTTP/1.1 + JSON API over the unix socket (README "API"). Routes validate their input and answer
// every error with the one error body of api/errors.ts; nothing a request sends may crash the daemon.

import { isUtf8 } from 'node:buffer';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import Fastify, { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatServerTiming, SANDBOX_HEADER, SERVER_TIMING_HEADER, SOURCE_HEADER, TIER_HEADER, ZYGOTE_HEADER, type StatusBody, type ZygoteInfo } from '../../../api';
import { SockpitError, badRequest } from '../errors';
import type { FunctionRecord } from '../functions/store';
import { Invocation, InvocationFailure } from '../provision/provisioner';
import { toErrorResponse } from './errors';
import { decodeErrorBody, ErrorBody } from '../protocol';
import { registerTelemetryRoutes, TelemetryDeps } from './telemetry-routes';
import { BenchmarkDeps, registerBenchmarkRoutes } from './benchmark-routes';
import { Peer, PeerAudit, printable } from './peers';
import type { Upload } from '../functions/deploy';
import { Caller, mayManage } from '../functions/ownership';
import { admitConnections, AdmissionLimits, DEFAULT_ADMISSION, Quota } from './admission';

/** What the API needs from the daemon: a narrow interface, so routes stay thin. */
export interface ApiBackend {
  status(): StatusBody;
  listFunctions(): FunctionRecord[];
  getFunction(name: string): FunctionRecord | undefined;
  /** the caller is the connection's peer: it becomes the owner, and must be the owner (or root) of a redeploy */
  deploy(name: string, upload: Upload, caller: Caller | null): Promise<FunctionRecord>;
  remove(name: string, caller: Caller | null): Promise<boolean>;
  invoke(name: string, event: Buffer): Promise<Invocation>;
  zygoteTree(): ZygoteInfo[];
}

export interface ApiOptions {
  maxBodyBytes: number;
  /** GET /v1/stats, /metrics and /v1/events */
  telemetry?: TelemetryDeps;
  /** POST/GET /v1/benchmarks */
  benchmarks?: BenchmarkDeps;
  /** peer credentials of each connection, audit lines and per-uid counters (api/peers.ts) */
  audit?: PeerAudit;
  /** connection and subscriber caps, header and idle timeouts (api/admission.ts) */
  admission?: AdmissionLimits;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** the unix-socket peer that sent the request (SO_PEERCRED), when the daemon identifies peers */
    peer: Peer | null;
  }
}

/** the error code each failed request was answered with, for the audit line */
const errorCodes = new WeakMap<FastifyRequest, string>();

const NAME_PARAMS = {
  type: 'object',
  properties: { name: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' } },
  required: ['name'],
} as const;

export function buildApi(backend: ApiBackend, opts: ApiOptions): FastifyInstance {
  const limits = opts.admission ?? DEFAULT_ADMISSION;
  const app = Fastify({
    // a connection's request headers must come within headerTimeoutMs (checked every second, not Node's 30 s),
    // and a kept-alive connection idle for idleTimeoutMs is closed: half-open connections don't pile up
    http: { headersTimeout: limits.headerTimeoutMs, connectionsCheckingInterval: 1000 },
    keepAliveTimeout: limits.idleTimeoutMs,
    logger: false,
    bodyLimit: opts.maxBodyBytes,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 200 },
    // the router's own refusals (a bad %-escape in the URL, a parameter too long) get our error body too
    frameworkErrors: (err, _req, reply) => sendError(reply, err),
    // a request must arrive whole within this time (the response may take as long as the function runs)
    requestTimeout: 30_000,
    // a request the HTTP parser refuses (bad request line, headers too large, bad chunking) gets our error body too
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const [status, code, message] =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'too_large', 'the request headers are too large']
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? [408, 'timeout', 'the request did not arrive in time']
            : [400, 'bad_request', `malformed HTTP request (${err.code ?? 'parse error'})`];
      opts.audit?.recordClientError(socket, status, code);
      const body = JSON.stringify({ error: { code, message } });
      if (socket.writable) {
        socket.write(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      }
      socket.destroy();
    },
  });

  const audit = opts.audit;
  admitConnections(app.server, new Quota(limits.connectionsPerUid, limits.connections), (socket) => audit?.peerOf(socket) ?? null);
  if (audit) {
    app.decorateRequest('peer', null);
    app.addHook('onRequest', (req, _reply, done) => {
      req.peer = audit.peerOf(req.raw.socket);
      done();
    });
    app.addHook('onResponse', (req, reply, done) => {
      audit.record(req.peer, req.method, req.url, reply.statusCode, errorCodes.get(req));
      done();
    });
  }

  // Every body arrives as bytes; each route parses what it expects. The event of /run is passed to the
  // instance as it came, after a check that it is JSON.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err, _req, reply) => sendError(reply, err));
  app.setNotFoundHandler((req, reply) => sendError(reply, new SockpitError('not_found', `no route ${req.method} ${req.url}`)));

  app.get('/v1/status', async () => backend.status());

  app.get('/v1/zygotes', async () => ({ zygotes: backend.zygoteTree() }));

  // environment values are secrets of the function's owner: the list shows keys only, always
  app.get('/v1/functions', async () => ({ functions: backend.listFunctions().map((fn) => describe(fn, false)) }));

  app.get<{ Params: { name: string } }>('/v1/functions/:name', { schema: { params: NAME_PARAMS } }, async (req) => {
    const fn = backend.getFunction(req.params.name);
    if (!fn) throw new SockpitError('not_found', `no function named "${req.params.name}"`);
    return describe(fn, mayManage(req.peer ?? null, fn.owner));
  });

  // Deploy takes the folder itself, as a tar stream: the body is handed to the unpacker as it arrives (its own
  // limits, deploy.*), never buffered whole. Only this route parses x-tar: the parser lives in this scope.
  app.register(async (scope) => {
    scope.addContentTypeParser(TAR, (_req, payload, done) => done(null, payload));
    scope.put<{ Params: { name: string } }>('/v1/functions/:name', { schema: { params: NAME_PARAMS } }, async (req, reply) => {
      if (!isTar(req.headers['content-type'])) {
        throw badRequest(`deploy takes the function's folder as a tar stream (Content-Type: ${TAR}); a folder is never named by path`);
      }
      const source = req.headers[SOURCE_HEADER];
      const upload: Upload = {
        body: req.body as Readable,
        source: typeof source === 'string' && source !== '' ? printable(source, 512) : 'upload',
      };
      const fn = await backend.deploy(req.params.name, upload, req.peer ?? null);
      return reply.code(201).send(describe(fn, true));
    });
  });

  app.delete<{ Params: { name: string } }>('/v1/functions/:name', { schema: { params: NAME_PARAMS } }, async (req, reply) => {
    if (!(await backend.remove(req.params.name, req.peer ?? null))) throw new SockpitError('not_found', `no function named "${req.params.name}"`);
    return reply.code(204).send();
  });

  app.post<{ Params: { name: string } }>('/run/:name', { schema: { params: NAME_PARAMS } }, async (req, reply) => {
    const event = eventBytes(req.body);
    let run: Invocation;
    try {
      run = await backend.invoke(req.params.name, event);
    } catch (err) {
      if (err instanceof InvocationFailure) describeRun(reply, err);
      throw err;
    }
    describeRun(reply, run);
    if (run.ok) return reply.code(200).header('Content-Type', 'application/json').send(run.body);
    return sendError(reply, functionError(run));
  });

  if (opts.telemetry) registerTelemetryRoutes(app, { subscribers: new Quota(limits.subscribersPerUid, limits.subscribers), ...opts.telemetry });
  if (opts.benchmarks) registerBenchmarkRoutes(app, opts.benchmarks);
  return app;
}

function describeRun(reply: FastifyReply, run: Pick<Invocation, 'tier' | 'sandbox' | 'zygote' | 'phases'>): void {
  reply.header(TIER_HEADER, run.tier).header(SANDBOX_HEADER, run.sandbox).header(SERVER_TIMING_HEADER, formatServerTiming(run.phases));
  if (run.zygote) reply.header(ZYGOTE_HEADER, run.zygote);
}

function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  const { status, body } = toErrorResponse(err);
  errorCodes.set(reply.request, body.error.code);
  if (status === 429 || status === 503) reply.header('Retry-After', '1');
  return reply.code(status).header('Content-Type', 'application/json').send(JSON.stringify(body));
}

const TAR = 'application/x-tar';

function isTar(contentType: string | undefined): boolean {
  return contentType?.split(';')[0].trim().toLowerCase() === TAR;
}

/** A function as the API shows it; `environment` (the values) only when the caller may see them. */
function describe(fn: FunctionRecord, withValues: boolean) {
  return {
    name: fn.name,
    version: fn.version,
    owner: fn.owner,
    source: fn.source,
    environmentKeys: Object.keys(fn.environment),
    ...(withValues ? { environment: fn.environment } : {}),
    limits: fn.limits,
    requirements: fn.requirements,
    packages: fn.packages.map((p) => p.key),
    deployedAt: fn.deployedAt,
  };
}

/** The event as the instance will get it: the body when it is JSON, `null` when there is no body. */
function eventBytes(body: unknown): Buffer {
  if (!Buffer.isBuffer(body) || body.length === 0) return Buffer.from('null');
  // the instance decodes it strictly: a lossy check here would let through what it then fails on
  if (!isUtf8(body)) throw badRequest('the event is not valid UTF-8');
  try {
    JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw badRequest(`the event is not JSON: ${(err as Error).message}`);
  }
  return body;
}

function functionError(run: Invocation): SockpitError {
  let detail: ErrorBody = {};
  try {
    detail = decodeErrorBody(run.body); // flat and bounded: the instance checked it before (protocol/instance-messages.ts)
  } catch {
    detail = { message: run.body.toString('utf8') };
  }
  const what = run.loadFailed ? 'failed to load:' : 'raised';
  return new SockpitError('function_error', `${run.function} ${what} ${detail.type ?? 'an error'}: ${detail.message ?? ''}`.trim(), {
    detail,
  });
}
