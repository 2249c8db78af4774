// orc-adapter-echo: a complete third-party llama-orch adapter in one file, plain ESM, no build.
// Engine `echo` streams the prompt back one word at a time. It follows the adapter contract of
// `llama-orch/sdk` (spec adapters §1): started → token* → end | error, failures yielded (never
// thrown), nothing after cancel, exactly one terminal event.
import fp from 'fastify-plugin'
import { Type } from 'typebox'

/** @type {import('llama-orch/sdk').ExtensionDescriptor} */
export const extension = {
  kind: 'adapter',
  apiVersion: 1,
  engines: ['echo'],
  description: 'echoes the prompt back word by word',
  optionsSchema: Type.Object({
    slots: Type.Integer({ minimum: 1, default: 4, description: 'concurrent streams per replica' }),
    token_delay_ms: Type.Integer({ minimum: 0, default: 0, description: 'pause between tokens' }),
    ctx_max: Type.Integer({ minimum: 1, default: 4096 }),
    api_key: Type.Optional(Type.String({ minLength: 8, description: 'never logged' })),
  }, { additionalProperties: false }),
}

export const ENGINE_VERSION = 'echo-1.0.0'

const sleep = (ms, signal) => new Promise((resolve) => {
  if (ms === 0 || signal.aborted) return resolve()
  const t = setTimeout(resolve, ms)
  signal.addEventListener('abort', () => { clearTimeout(t); resolve() }, { once: true })
})

/**
 * One adapter per (pool, replica).
 * @param {import('llama-orch/sdk').AdapterBinding} binding
 * @returns {import('llama-orch/sdk').WorkerAdapter}
 */
export function createEchoAdapter (binding, options) {
  const running = new Map() // task id → AbortController
  let closed = false
  return {
    engine: 'echo',
    async health () { return { live: !closed, ready: !closed } },
    async props () { return { slots_total: options.slots, slots_free: Math.max(0, options.slots - running.size), ctx_max: options.ctx_max, engine_version: ENGINE_VERSION } },
    async engineVersion () { return ENGINE_VERSION },
    async capabilities () {
      return { ctx_max: options.ctx_max, slots_total: options.slots, engine_version: ENGINE_VERSION, supported_workloads: ['completion'], features: { streaming: true, cancel: true } }
    },
    async cancel (taskId) { running.get(taskId)?.abort() },
    async close () { closed = true; for (const c of running.values()) c.abort() },
    async * submit (req, o) {
      if (closed) {
        yield { kind: 'error', data: { kind: 'POOL_UNAVAILABLE', message: 'the echo adapter is closed', retriable: true, engine: 'echo' } }
        return
      }
      const controller = new AbortController()
      const onAbort = () => controller.abort()
      o.signal.addEventListener('abort', onAbort, { once: true })
      if (o.signal.aborted) controller.abort()
      running.set(req.task_id, controller)
      try {
        const seed = req.seed ?? 0
        yield { kind: 'started', data: { engine: 'echo', engine_version: ENGINE_VERSION, seed, pool_id: o.poolId, replica_id: o.replicaId } }
        const words = (req.prompt ?? (req.inputs ?? []).join(' ')).split(/(?<= )/).filter(Boolean).slice(0, req.max_tokens)
        const t0 = Date.now()
        let i = 0
        for (const t of words) {
          if (i > 0) await sleep(options.token_delay_ms, controller.signal)
          if (controller.signal.aborted) break
          if (Date.now() > o.deadlineAt) {
            yield { kind: 'error', data: { kind: 'DEADLINE_UNMET', message: 'the task deadline passed', retriable: false, engine: 'echo' } }
            return
          }
          yield { kind: 'token', data: { t, i: i++ } }
        }
        const canceled = controller.signal.aborted
        const stop = canceled ? 'canceled' : i < words.length || i === req.max_tokens ? 'length' : 'eos'
        yield { kind: 'end', data: { tokens_out: i, decode_time_ms: Date.now() - t0, stop_reason: stop } }
      } finally {
        o.signal.removeEventListener('abort', onAbort)
        running.delete(req.task_id)
      }
    },
  }
}

/** The plugin llama-orch registers with the validated options (defaults filled). */
async function echoAdapter (app, options) {
  app.adapters.add({ engine: 'echo', create: (binding) => createEchoAdapter(binding, options) })
}

export default fp(echoAdapter, {
  name: 'orc-adapter-echo',
  fastify: '5.x',
  dependencies: ['orc.adapters'],
})
