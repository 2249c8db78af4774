import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import type { TSchema } from 'typebox'
import { Value } from 'typebox/value'
import { NAMES } from '../../lib/names.js'
import { systemClock, type Clock } from '../../lib/clock.js'
import { QueueDefaults, SessionsConfig, SseConfig, TasksConfig } from './schema.js'
import { createDataPlane, type DataPlane } from './dataplane.js'
import type { Lifecycle } from './core.js'
import { traceOf } from './trace.js'
import type { Task } from './tasks.js'

declare module 'fastify' {
  interface FastifyInstance { queue: DataPlane }
}

export interface QueueOptions {
  queue?: Partial<QueueDefaults>
  sessions?: Partial<SessionsConfig>
  sse?: Partial<SseConfig>
  tasks?: Partial<TasksConfig>
  clock?: Clock
}

/** Retired → MODEL_DEPRECATED (§2.1 step 3) once the catalog offers `lifecycle(modelId)` (issue 6). */
export function catalogLifecycle (app: FastifyInstance): Lifecycle {
  return (modelId) => {
    const lifecycle = (app.catalog as { lifecycle?: Lifecycle }).lifecycle
    return typeof lifecycle === 'function' ? lifecycle(modelId) : undefined
  }
}

/**
 * The admission stage: the data plane of spec api-and-core.md §2 and §4.1–4.7 as `app.queue`
 * (admission queue per pool, tasks and their SSE event logs, sessions, dispatch through
 * `app.adapterHost`, cancel, the sweep). Its routes live in `routes.ts`, mounted under /v1.
 */
const queuePlugin: FastifyPluginAsync<QueueOptions> = async (app, opts) => {
  const defaults = <T>(schema: TSchema, v: unknown): T => Value.Default(schema, Value.Clone(v ?? {})) as T
  const tasks = defaults<TasksConfig>(TasksConfig, opts.tasks)
  const storeTrace = (task: Task): void => {
    app.artifacts.put(traceOf(task)).then((ref) => { task.traceId = ref.id }, (err: Error) => {
      app.narration.narrate({ actor: 'orchestratord', action: 'error', target: task.id, task_id: task.id, error: err.message }, `cannot store the trace of task ${task.id}`, 'warn')
    })
  }
  const dp = createDataPlane({
    registry: app.pool.registry,
    configs: app.pool.configs,
    placement: app.placement,
    host: app.adapterHost,
    metrics: app.metrics,
    narrator: app.narration,
    clock: opts.clock ?? systemClock,
    engines: () => app.adapters.engines(),
    lifecycle: catalogLifecycle(app),
    config: {
      queue: defaults(QueueDefaults, opts.queue),
      sessions: defaults(SessionsConfig, opts.sessions),
      sse: defaults(SseConfig, opts.sse),
      tasks,
    },
    ...(tasks.trace_artifacts ? { onRetire: storeTrace } : {}),
  })
  app.decorate('queue', dp)
  // open SSE responses would hold the server open: end them before the server closes
  app.addHook('preClose', async () => { dp.close() })
  app.addHook('onClose', async () => { dp.close() })
}

export default fp(queuePlugin, {
  name: NAMES.queue,
  fastify: '5.x',
  dependencies: [NAMES.placement],
  decorators: { fastify: ['placement', 'pool', 'adapterHost', 'metrics', 'narration', 'catalog', 'artifacts'] },
})

export { AdmissionQueue, type Priority, type Policy } from './queue.js'
export type { DataPlane } from './dataplane.js'
