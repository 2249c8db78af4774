import { createHash, randomUUID } from 'node:crypto'
import type { PoolConfig } from '../../sdk/pool-config.js'
import { enginesServing } from '../../lib/models-served.js'
import { OpenAiError } from './errors.js'

/**
 * How an OpenAI request becomes a task (openai-compat.md §2): the pool's logical model names
 * the engine, the queue fields come from `X-Llama-Orch-*` headers, the session from
 * `X-Llama-Orch-Session` or the body's `user`. The task id is the response id.
 */
export const DEFAULT_DEADLINE_MS = 60_000

export interface QueueFields { priority: 'interactive' | 'batch', deadline_ms: number, session_id: string }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A stable session id for a `user` string: the same user always lands in the same session. */
export function sessionForUser (user: string): string {
  const h = createHash('sha256').update(`openai-user:${user}`).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
}

const header = (headers: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

export function queueFields (headers: Record<string, string | string[] | undefined>, user: string | undefined): QueueFields {
  const priority = header(headers, 'x-llama-orch-priority') ?? 'interactive'
  if (priority !== 'interactive' && priority !== 'batch') {
    throw new OpenAiError(400, `header X-Llama-Orch-Priority must be interactive or batch, got ${JSON.stringify(priority)}`, { param: 'X-Llama-Orch-Priority' })
  }
  const d = header(headers, 'x-llama-orch-deadline-ms')
  const deadline = d === undefined ? DEFAULT_DEADLINE_MS : /^\d{1,15}$/.test(d) ? Number(d) : NaN
  if (!(deadline > 0)) {
    const got = JSON.stringify(d)
    throw new OpenAiError(400, `header X-Llama-Orch-Deadline-Ms must be a positive integer of milliseconds, got ${got}`, { param: 'X-Llama-Orch-Deadline-Ms' })
  }
  const s = header(headers, 'x-llama-orch-session')
  if (s !== undefined && !UUID.test(s)) throw new OpenAiError(400, 'header X-Llama-Orch-Session must be a UUID', { param: 'X-Llama-Orch-Session' })
  return { priority, deadline_ms: deadline, session_id: s ?? (user !== undefined ? sessionForUser(user) : randomUUID()) }
}

/** The one engine serving `model`, or a 404 / 400 naming the models or engines there are. */
export function engineFor (configs: readonly PoolConfig[], model: string): string {
  const engines = enginesServing(configs, model)
  if (engines.length === 1) return engines[0]!
  if (engines.length === 0) {
    const known = [...new Set(configs.map((c) => c.model))].sort()
    const served = known.join(', ') || 'none'
    throw new OpenAiError(404, `The model '${model}' does not exist; models served here: ${served}`, { param: 'model', code: 'model_not_found' })
  }
  const several = engines.join(', ')
  throw new OpenAiError(400, `model '${model}' is served by several engines (${several}); use the native /v1/tasks API to pick one`, { param: 'model' })
}
