// POST /v1/benchmarks, GET /v1/benchmarks and GET /v1/benchmarks/:id (README "API"): run a benchmark
// suite as a job, list the jobs (newest first), show one. Progress streams as `benchmark` events.

import type { FastifyInstance } from 'fastify';
import { SockpitError, badRequest } from '../errors';
import type { BenchmarkJob, BenchmarkRequest } from '../bench/jobs';
import { parseBenchmarkRequest } from '../bench/jobs';

/** What the routes need: bench/jobs.ts's BenchmarkJobs. */
export interface BenchmarkDeps {
  start(req: BenchmarkRequest): BenchmarkJob;
  list(): BenchmarkJob[];
  get(id: string): BenchmarkJob | undefined;
}

const ID_PARAMS = {
  type: 'object',
  properties: { id: { type: 'string', pattern: '^[a-z0-9-]{1,64}$' } },
  required: ['id'],
} as const;

export function registerBenchmarkRoutes(app: FastifyInstance, deps: BenchmarkDeps): void {
  app.post('/v1/benchmarks', async (req, reply) => {
    const text = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw badRequest(`the request body is not JSON: ${(err as Error).message}`);
    }
    const job = deps.start(parseBenchmarkRequest(body));
    return reply.code(202).header('Location', `/v1/benchmarks/${job.id}`).send(job);
  });

  app.get('/v1/benchmarks', async () => ({ benchmarks: deps.list() }));

  app.get<{ Params: { id: string } }>('/v1/benchmarks/:id', { schema: { params: ID_PARAMS } }, async (req) => {
    const job = deps.get(req.params.id);
    if (!job) throw new SockpitError('not_found', `no benchmark "${req.params.id}"`);
    return job;
  });
}
