import fp from 'fastify-plugin'
import type { FastifyPluginAsync } from 'fastify'
import type { TSchema } from 'typebox'
import { Value } from 'typebox/value'
import { NAMES } from '../../lib/names.js'
import { systemClock, type Clock } from '../../lib/clock.js'
import type {} from '../artifacts/index.js'
import type {} from '../catalog/index.js'
import type {} from '../metrics/index.js'
import type {} from '../placement/index.js'
import type {} from '../pool/index.js'
import type {} from '../sessions/index.js'
import { QueueDefaults, SseConfig, TasksConfig } from './schema.js'
import { createDataPlane, type DataPlane } from './dataplane.js'
import { traceOf } from './trace.js'
import type { Task } from './tasks.js'

declare module 'fastify' {
  interface FastifyInstance { dataplane: DataPlane }
}

export interface DataPlaneOptions {
  queue?: Partial<QueueDefaults>
  sse?: Partial<SseConfig>
  tasks?: Partial<TasksConfig>
  clock?: Clock
}

/**
 * The data plane of spec api-and-core.md §2 and §4.1–4.7 as `app.dataplane`: admission onto
 * one queue per pool, tasks and their SSE event logs, dispatch through `app.adapterHost`,
 * cancel and the sweep (architecture.md §3). Its routes live in `routes.ts`, mounted under /v1.
 */
const dataplanePlugin: FastifyPluginAsync<DataPlaneOptions> = async (app, opts) => {
  const defaults = <T>(schema: TSchema, v: unknown): T => Value.Default(schema, Value.Clone(v ?? {})) as T
  const tasks = defaults<TasksConfig>(TasksConfig, opts.tasks)
  const storeTrace = (task: Task): void => {
    app.artifacts.put(traceOf(task)).then((ref) => { task.traceId = ref.id }, (err: Error) => {
      app.narration.narrate({ actor: 'orchestratord', action: 'error', target: task.id, task_id: task.id, error: err.message },
        `cannot store the trace of task ${task.id}`, 'warn')
    })
  }
  const dp = createDataPlane({
    configs: app.pool.configs,
    registry: app.pool.registry,
    placement: app.placement,
    host: app.adapterHost,
    sessions: app.sessions,
    metrics: app.metrics,
    narrator: app.narration,
    clock: opts.clock ?? systemClock,
    engines: () => app.adapters.engines(),
    modelLifecycle: (modelId) => app.catalog.lifecycle(modelId),
    config: { queue: defaults(QueueDefaults, opts.queue), sse: defaults(SseConfig, opts.sse), tasks },
    ...(tasks.trace_artifacts ? { onRetire: storeTrace } : {}),
  })
  app.decorate('dataplane', dp)
  // open SSE responses would hold the server open: end them before the server closes
  app.addHook('preClose', async () => { dp.close() })
  app.addHook('onClose', async () => { dp.close() })
}

export default fp(dataplanePlugin, {
  name: NAMES.dataplane,
  fastify: '5.x',
  dependencies: [NAMES.sessions, NAMES.placement, NAMES.pool, NAMES.adapters, NAMES.catalog, NAMES.artifacts],
  decorators: { fastify: ['sessions', 'placement', 'pool', 'adapterHost', 'metrics', 'narration', 'catalog', 'artifacts'] },
})

export { AdmissionQueue, type Policy } from './queue.js'
export type { DataPlane, DataPlaneInspection } from './dataplane.js'
export type { Task, TaskState } from './tasks.js'
