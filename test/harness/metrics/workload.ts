/**
 * The scripted warm-up of spec §5.6 (ORCH-3282), through public HTTP APIs only, so every
 * contract family the traffic can reach has samples before the scrape: streams of both
 * priorities on the native and the OpenAI-compatible routes, a cancel mid-stream and one of a
 * queued task, 429s from a saturated queue, a refused body, engine failures (an error frame,
 * a connection dropped mid-stream as a crashed engine does, a 500) and a catalog verification.
 */
import { randomUUID } from 'node:crypto'
import type { FakeEngine } from '../../fixtures/engines/fake-engine.js'
import { waitFor } from '../../helpers/wait.js'
import { sseEvents, type Client, type Reply } from './client.js'

/** The pools the workload needs; `run.ts` builds them on fake llama.cpp servers. */
export const POOLS = {
  /** plain traffic, two slots */
  main: { engine: 'llamacpp', model: 'tiny', slots: 2, capacity: 8 },
  /** a second engine, so engine and engine_version carry more than one value */
  alt: { engine: 'vllm', model: 'alt', slots: 1, capacity: 8 },
  /** one slow slot and a one-place queue: a second waiting task is refused (429) */
  slow: { engine: 'llamacpp', model: 'slow', slots: 1, capacity: 1 },
  /** scripted engine failures */
  flaky: { engine: 'llamacpp', model: 'flaky', slots: 1, capacity: 4 },
} as const
export type PoolName = keyof typeof POOLS

export interface WorkloadCounts {
  native_streams: number
  native_202_streams: number
  openai_completions: number
  openai_chats: number
  /** POST /v1/tasks/{id}/cancel answered 204 (running and queued) */
  cancels: number
  rejected_429: number
  rejected_400: number
  /** streams that ended in an `error` frame (engine error, dropped connection, engine 500) */
  engine_errors: number
  catalog_verifications: number
  /** every request the workload made that answered otherwise than it expected */
  unexpected: string[]
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

const task = (model: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  task_id: randomUUID(),
  session_id: randomUUID(),
  model_ref: model,
  engine: 'llamacpp',
  prompt: 'Count: 3',
  max_tokens: 64,
  deadline_ms: 20_000,
  priority: 'interactive',
  ...extra,
})

export async function driveWorkload (client: Client, engines: Record<PoolName, FakeEngine>): Promise<WorkloadCounts> {
  const n: WorkloadCounts = {
    native_streams: 0,
    native_202_streams: 0,
    openai_completions: 0,
    openai_chats: 0,
    cancels: 0,
    rejected_429: 0,
    rejected_400: 0,
    engine_errors: 0,
    catalog_verifications: 0,
    unexpected: [],
  }
  /** `last`: the native stream's terminal event; `done`: an OpenAI stream ends in [DONE] without an error chunk */
  const expect = (what: string, r: Reply, status: number, last?: string | 'done'): boolean => {
    const events = sseEvents(r.body)
    const ended = last === undefined ||
      (last === 'done' ? r.body.trimEnd().endsWith('data: [DONE]') && !r.body.includes('"error"') : events.at(-1) === last)
    const ok = r.status === status && ended
    if (!ok) n.unexpected.push(`${what}: ${r.status} ${last ? `expected ${last}, events ${events.join(',')}` : ''} ${r.body.slice(0, 300)}`)
    return ok
  }

  // 1. completions on both priorities (one job per priority at least, §5.6), native SSE on the POST
  await Promise.all(['interactive', 'interactive', 'interactive', 'batch', 'batch'].map(async (priority) => {
    if (expect(`native ${priority}`, await client.sse('/v1/tasks', task('tiny', { priority })), 200, 'end')) n.native_streams++
  }))
  if (expect('native on vllm', await client.sse('/v1/tasks', task('alt', { engine: 'vllm' })), 200, 'end')) n.native_streams++
  // the 202 flavour: admission, then GET the stream
  const queued = task('tiny', { priority: 'batch' })
  const admitted = await client.call('POST', '/v1/tasks', queued)
  if (expect('native 202', admitted, 202)) {
    const res = await client.call('GET', `/v1/tasks/${queued.task_id as string}/stream`)
    if (expect('native 202 stream', res, 200, 'end')) n.native_202_streams++
  }

  // 2. the OpenAI-compatible routes, whole and streamed
  for (const stream of [false, true]) {
    const c = { model: stream ? 'alt' : 'tiny', prompt: 'Count: 3', max_tokens: 8, stream }
    const r = stream ? await client.sse('/v1/completions', c) : await client.call('POST', '/v1/completions', c)
    if (expect(`/v1/completions stream=${stream}`, r, 200, stream ? 'done' : undefined) && (stream || r.json?.choices?.length === 1)) n.openai_completions++
    const m = { model: 'tiny', messages: [{ role: 'user', content: 'Count: 3' }], max_tokens: 8, stream }
    const rc = stream ? await client.sse('/v1/chat/completions', m) : await client.call('POST', '/v1/chat/completions', m)
    if (expect(`/v1/chat/completions stream=${stream}`, rc, 200, stream ? 'done' : undefined) && (stream || rc.json?.choices?.length === 1)) n.openai_chats++
  }

  // 3. a body admission refuses: tasks_rejected_total{reason="INVALID_PARAMS"}
  if (expect('empty prompt', await client.call('POST', '/v1/tasks', task('tiny', { prompt: '' })), 400)) n.rejected_400++

  // 4. saturate `slow` (one slot, one queue place): running + queued, then 429s; cancel both
  const running = task('slow')
  let firstToken!: () => void
  const sawToken = new Promise<void>((resolve) => { firstToken = resolve })
  const runningStream = client.sse('/v1/tasks', running, (raw) => { if (raw.includes('event: token')) firstToken() })
  await Promise.race([sawToken, sleep(5000)])
  const waiting = task('slow')
  expect('queued on slow', await client.call('POST', '/v1/tasks', waiting), 202)
  for (let i = 0; i < 3; i++) {
    if (expect('over capacity', await client.call('POST', '/v1/tasks', task('slow')), 429)) n.rejected_429++
  }
  for (const id of [waiting.task_id, running.task_id] as string[]) {
    if (expect(`cancel ${id}`, await client.call('POST', `/v1/tasks/${id}/cancel`), 204)) n.cancels++
  }
  const canceled = await runningStream
  if (expect('canceled stream', canceled, 200, 'end') && !canceled.body.includes('"canceled":true')) {
    n.unexpected.push(`canceled stream: its end frame is not canceled: ${canceled.body.slice(-200)}`)
  }

  // 5. engine failures on `flaky`, one at a time so each fault meets one request
  const flaky = engines.flaky
  const failures: Array<[string, () => void]> = [
    ['error frame', () => { flaky.faults.errorAfter = 1 }],
    ['dropped connection', () => { flaky.faults.disconnectAfter = 1 }],
    ['engine 500', () => { flaky.faults.statuses = [{ status: 500, body: '{"error":{"code":500,"message":"boom","type":"server_error"}}' }] }],
  ]
  for (const [what, fault] of failures) {
    flaky.reset()
    fault()
    if (expect(what, await client.sse('/v1/tasks', task('flaky', { deadline_ms: 5000 })), 200, 'error')) n.engine_errors++
  }
  flaky.reset()

  // 6. a catalog verification (catalog_verifications_total), of a model a pool staged
  const models = await client.call('GET', '/v1/catalog/models')
  const model = (models.json?.items ?? [])[0] as { id: string } | undefined
  if (model) {
    const path = `/v1/catalog/models/${encodeURIComponent(model.id)}`
    const before = JSON.stringify((await client.call('GET', path)).json)
    if (expect('verify', await client.call('POST', `${path}/verify`), 202)) {
      await waitFor('the verification to be recorded', async () => JSON.stringify((await client.call('GET', path)).json) !== before, 5000)
      n.catalog_verifications++
    }
  } else {
    n.unexpected.push(`GET /v1/catalog/models listed no model: ${models.body.slice(0, 200)}`)
  }
  return n
}
