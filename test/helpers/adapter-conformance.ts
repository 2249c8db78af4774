/**
 * The adapter conformance suite (spec adapters §1.3, §1.4, §7 scenarios 1–11, 15): one set of
 * checks every adapter must pass against its engine. Call `adapterConformance(t, target)`
 * from a test file. With a fault-capable fake (`engine.fake`), the fault checks run too;
 * against a real engine (e.g. the embedded llama-server-compatible worker) the core checks
 * run: ordering, token indices, tokens_out, one terminal event, seeds, cancel.
 */
import type { Test } from 'tap'
import type { TaskRequest, TokenEvent, WorkerAdapter } from '../../sdk/index.js'
import { deriveSeed } from '../../sdk/determinism.js'
import type { RetryInfo } from '../../lib/http-client/client.js'
import { refusedUrl, type FakeEngine } from '../fixtures/engines/fake-engine.js'

export interface ConformanceEngine {
  url: string
  /** The token texts the standard request streams, in order. */
  tokens: string[]
  /** `end.tokens_out` the engine reports for them (llama.cpp counts EOS). */
  tokensOut: number
  /** A fake with fault switches; absent for a real engine (fault checks are then not run). */
  fake?: FakeEngine
  close (): Promise<void>
}

export interface ConformanceTarget {
  engine: string
  start (): Promise<ConformanceEngine>
  /** An adapter for `url`; `http` holds adapter `http` options (timeouts, attempts, backoff). */
  adapter (
    url: string,
    http: Record<string, unknown>,
    onRetry: (info: RetryInfo) => void
  ): Promise<{ adapter: WorkerAdapter, close (): Promise<void> }> | { adapter: WorkerAdapter, close (): Promise<void> }
  /** The generation route on the fake, to count tries. */
  generatePath: string
  /** The standard request (prompt, max_tokens) for this engine. */
  request?: Partial<TaskRequest>
  /** Tokens a long stream should produce for the cancel check (fakes only). */
  longTokens?: number
  /** Request fields that make a real engine stream long enough to cancel mid-way. */
  longRequest?: Partial<TaskRequest>
}

let n = 0
export function taskRequest (engine: string, extra: Partial<TaskRequest> = {}): TaskRequest {
  return {
    task_id: `conf-${process.pid}-${++n}`,
    session_id: 's',
    workload: 'completion',
    model_ref: 'tiny',
    engine,
    ctx: 0,
    priority: 'interactive',
    prompt: 'Hello',
    max_tokens: 64,
    deadline_ms: 30_000,
    ...extra,
  }
}

export async function collect (it: AsyncIterable<TokenEvent>, onEvent?: (e: TokenEvent, seen: TokenEvent[]) => void | Promise<void>): Promise<TokenEvent[]> {
  const out: TokenEvent[] = []
  for await (const e of it) { out.push(e); await onEvent?.(e, out) }
  return out
}

const kinds = (events: TokenEvent[]): string[] => events.map((e) => e.kind)
const tokenTexts = (events: TokenEvent[]): string[] => events.flatMap((e) => e.kind === 'token' ? [e.data.t] : [])
const opts = (deadlineMs = 30_000, signal = new AbortController().signal) => ({ signal, deadlineAt: Date.now() + deadlineMs, poolId: 'p0', replicaId: 'r0' })

/** Checks the stream invariants of §1.3 on any event list. */
export function checkInvariants (t: Test, events: TokenEvent[]): void {
  const terminals = events.filter((e) => e.kind === 'end' || e.kind === 'error')
  t.equal(terminals.length, 1, 'exactly one terminal event')
  t.ok(events.at(-1) === terminals[0], 'the terminal event is last')
  const started = events.filter((e) => e.kind === 'started')
  t.ok(started.length <= 1 && (started.length === 0 || events[0]!.kind === 'started'), 'at most one started, first')
  const tokens = events.filter((e) => e.kind === 'token')
  t.same(tokens.map((e) => (e.data as { i: number }).i), tokens.map((_, i) => i), 'token indices count from 0 without gaps')
  t.notOk(tokens.some((e) => (e.data as { t: string }).t === ''), 'no empty token')
}

export function adapterConformance (t: Test, target: ConformanceTarget): void {
  const retries: RetryInfo[] = []
  const onRetry = (i: RetryInfo): void => { retries.push(i) }
  const req = (extra: Partial<TaskRequest> = {}): TaskRequest => taskRequest(target.engine, { ...target.request, ...extra })
  let engine: ConformanceEngine
  t.before(async () => { engine = await target.start() })
  t.teardown(async () => { await engine?.close() })
  const adapterFor = async (t: Test, http: Record<string, unknown> = {}, url = engine.url): Promise<WorkerAdapter> => {
    const made = await target.adapter(url, { backoff_base_ms: 5, backoff_cap_ms: 50, ...http }, onRetry)
    t.teardown(() => made.close())
    retries.length = 0
    engine.fake?.reset()
    return made.adapter
  }

  t.test(`${target.engine}: started, token×n, end in order; i = 0..n-1; tokens_out from the engine (scenarios 1, 3)`, async (t) => {
    const adapter = await adapterFor(t)
    const events = await collect(adapter.submit(req(), opts()))
    checkInvariants(t, events)
    t.equal(events[0]?.kind, 'started')
    t.same(tokenTexts(events), engine.tokens, 'the engine\'s deltas, in order, multi-byte characters whole')
    const end = events.at(-1)!
    t.match(end, { kind: 'end', data: { tokens_out: engine.tokensOut } })
    t.same(kinds(events).filter((k) => k !== 'metrics'), ['started', ...engine.tokens.map(() => 'token'), 'end'])
    t.ok((end.data as { decode_time_ms: number }).decode_time_ms >= 0)
    const started = events[0]!.data as { engine: string, engine_version: string, seed: number, pool_id: string, replica_id: string }
    t.equal(started.engine, target.engine)
    t.ok(started.engine_version.length > 0, 'started carries engine_version (scenario 16)')
    t.match(started, { pool_id: 'p0', replica_id: 'r0' })
  })

  t.test(`${target.engine}: no seed → the same derived seed for the same task id; a given seed is kept (scenario 15)`, async (t) => {
    const adapter = await adapterFor(t)
    const r = req()
    const a = await collect(adapter.submit(r, opts()))
    const b = await collect(adapter.submit(r, opts()))
    t.equal((a[0]!.data as { seed: number }).seed, deriveSeed(r.task_id))
    t.equal((b[0]!.data as { seed: number }).seed, deriveSeed(r.task_id))
    const c = await collect(adapter.submit(req({ seed: 42 }), opts()))
    t.equal((c[0]!.data as { seed: number }).seed, 42)
  })

  t.test(`${target.engine}: cancel stops the stream: no token after it, end{canceled}, upstream closed within one token (scenario 4)`, async (t) => {
    const adapter = await adapterFor(t)
    if (engine.fake) {
      engine.fake.faults.tokens = Array.from({ length: target.longTokens ?? 60 }, (_, i) => `t${i} `)
      engine.fake.faults.tokenDelayMs = 15
    }
    const r = req({ max_tokens: 512, ...target.longRequest })
    let writtenAtCancel = 0
    let afterCancel = 0
    let canceled = false
    const events = await collect(adapter.submit(r, opts()), async (e, seen) => {
      if (canceled && e.kind === 'token') afterCancel++
      if (!canceled && seen.filter((x) => x.kind === 'token').length === 2) {
        canceled = true
        writtenAtCancel = engine.fake?.streams[0]?.written ?? 0
        await adapter.cancel(r.task_id)
      }
    })
    checkInvariants(t, events)
    t.equal(afterCancel, 0, 'no token after cancel')
    t.match(events.at(-1), { kind: 'end', data: { stop_reason: 'canceled', tokens_out: 2 } })
    await adapter.cancel(r.task_id)
    t.pass('cancel again is a no-op')
    if (engine.fake) {
      const fake = engine.fake
      for (let i = 0; i < 100 && fake.streams[0]?.disconnectedAt == null; i++) await new Promise((resolve) => setTimeout(resolve, 10))
      const at = fake.streams[0]?.disconnectedAt
      t.not(at, null, 'the fake engine saw the client go away')
      t.ok(at! - writtenAtCancel <= 1, `upstream wrote at most one token after cancel (${at! - writtenAtCancel})`)
    }
  })

  t.test(`${target.engine}: an aborted signal cancels the same way`, async (t) => {
    const adapter = await adapterFor(t)
    const ac = new AbortController()
    ac.abort()
    t.same(
      await collect(adapter.submit(req(), opts(30_000, ac.signal))),
      [{ kind: 'end', data: { tokens_out: 0, decode_time_ms: 0, stop_reason: 'canceled' } }]
    )
    const ac2 = new AbortController()
    const events = await collect(adapter.submit(req(), opts(30_000, ac2.signal)), (e) => { if (e.kind === 'started') ac2.abort() })
    t.match(events.at(-1), { kind: 'end', data: { stop_reason: 'canceled' } })
    t.notOk(events.some((e) => e.kind === 'token'))
  })

  t.test(`${target.engine}: fault checks`, async (t) => {
    if (!engine.fake) { t.pass(`no fake for ${target.engine}: fault checks need one`); return }
    const fake = (): FakeEngine => engine.fake!
    const path = target.generatePath

    t.test('connection refused → 3 tries with jittered pauses ≤ 2000 ms, then POOL_UNAVAILABLE retriable (scenario 5)', async (t) => {
      const adapter = await adapterFor(t, { backoff_base_ms: 100, backoff_cap_ms: 2000 }, await refusedUrl())
      const r = req()
      const events = await collect(adapter.submit(r, opts()))
      t.match(events, [{ kind: 'error', data: { kind: 'POOL_UNAVAILABLE', retriable: true, engine: target.engine } }])
      const mine = retries.filter((x) => x.context.task_id === r.task_id)
      t.equal(mine.length, 2, 'two retries after the first try')
      t.ok(mine.every((x) => x.backoff_ms >= 0 && x.backoff_ms <= 2000 && x.reason === 'connect_refused'))
      t.same(mine.map((x) => x.attempt), [2, 3])
    })

    t.test('503 then 200 → the second try streams; one retry with backoff_ms (scenario 6)', async (t) => {
      const adapter = await adapterFor(t)
      fake().faults.statuses.push({ status: 503, body: '{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}' })
      const r = req()
      const events = await collect(adapter.submit(r, opts()))
      t.match(events.at(-1), { kind: 'end' })
      t.equal(fake().hits(path).length, 2)
      const mine = retries.filter((x) => x.context.task_id === r.task_id)
      t.equal(mine.length, 1)
      t.match(mine[0], { attempt: 2, reason: 'http_503', upstream_status: 503 })
      t.type(mine[0]!.backoff_ms, 'number')
    })

    t.test('429 on every try → POOL_UNAVAILABLE retriable with retry_after_ms from Retry-After', async (t) => {
      const adapter = await adapterFor(t)
      for (let i = 0; i < 3; i++) {
        fake().faults.statuses.push({ status: 429, body: '{"error":"Model is overloaded","error_type":"overloaded"}', headers: { 'retry-after': '0' } })
      }
      const events = await collect(adapter.submit(req(), opts()))
      t.match(events, [{ kind: 'error', data: { kind: 'POOL_UNAVAILABLE', retriable: true, upstream_status: 429, retry_after_ms: 0 } }])
      t.equal(fake().hits(path).length, 3)
    })

    t.test('Retry-After past the deadline → DEADLINE_UNMET at once (scenario 10)', async (t) => {
      const adapter = await adapterFor(t)
      fake().faults.statuses.push({ status: 503, body: '{}', headers: { 'retry-after': '60' } })
      const t0 = Date.now()
      const events = await collect(adapter.submit(req(), opts(2000)))
      t.match(events, [{ kind: 'error', data: { kind: 'DEADLINE_UNMET', retriable: false } }])
      t.ok(Date.now() - t0 < 1000, 'no waiting')
      t.equal(fake().hits(path).length, 1)
    })

    t.test('socket dropped after 3 tokens → WORKER_RESET, no retry (scenario 7)', async (t) => {
      const adapter = await adapterFor(t)
      fake().faults.disconnectAfter = 3
      const events = await collect(adapter.submit(req(), opts()))
      checkInvariants(t, events)
      t.equal(events.filter((e) => e.kind === 'token').length, 3)
      t.match(events.at(-1), { kind: 'error', data: { kind: 'WORKER_RESET', retriable: false } })
      t.equal(fake().hits(path).length, 1)
      t.equal(retries.filter((x) => x.context.task_id !== undefined).length, 0)
    })

    t.test('no first token within the first-token timeout → DECODE_TIMEOUT (scenario 8)', async (t) => {
      const adapter = await adapterFor(t, { first_token_timeout_ms: 150 })
      fake().faults.stallAfter = 0
      const events = await collect(adapter.submit(req(), opts()))
      t.match(events.at(-1), { kind: 'error', data: { kind: 'DECODE_TIMEOUT', retriable: false } })
      t.equal(events.filter((e) => e.kind === 'token').length, 0)
    })

    t.test('slow headers count against the first-token timeout too', async (t) => {
      const adapter = await adapterFor(t, { first_token_timeout_ms: 100 })
      fake().faults.headerDelayMs = 400
      const events = await collect(adapter.submit(req(), opts()))
      t.match(events, [{ kind: 'error', data: { kind: 'DECODE_TIMEOUT' } }])
    })

    t.test('a gap between tokens over idle_ms → DECODE_TIMEOUT; the deadline first → DEADLINE_UNMET (scenario 9)', async (t) => {
      const adapter = await adapterFor(t, { idle_timeout_ms: 150 })
      fake().faults.stallAfter = 2
      const idle = await collect(adapter.submit(req(), opts()))
      checkInvariants(t, idle)
      t.equal(idle.filter((e) => e.kind === 'token').length, 2)
      t.match(idle.at(-1), { kind: 'error', data: { kind: 'DECODE_TIMEOUT' } })
      fake().faults.stallAfter = 2
      const late = await collect(adapter.submit(req(), opts(100)))
      t.match(late.at(-1), { kind: 'error', data: { kind: 'DEADLINE_UNMET', retriable: false } })
    })

    t.test('a malformed frame → ADAPTER (INTERNAL publicly), not retriable', async (t) => {
      const adapter = await adapterFor(t)
      fake().faults.malformedAfter = 1
      const events = await collect(adapter.submit(req(), opts()))
      checkInvariants(t, events)
      t.match(events.at(-1), { kind: 'error', data: { kind: 'ADAPTER', retriable: false } })
    })

    t.test('a mid-stream error frame in the engine\'s dialect → ADAPTER, message redacted (scenario 11)', async (t) => {
      const adapter = await adapterFor(t)
      fake().faults.errorAfter = 2
      const events = await collect(adapter.submit(req(), opts()))
      checkInvariants(t, events)
      const err = events.at(-1)!
      t.match(err, { kind: 'error', data: { kind: 'ADAPTER', retriable: false } })
      const message = (err.data as { message: string }).message
      t.match(message, /engine failure/)
      t.notMatch(message, /canary123456|abc\.def/, 'secrets in the engine message are redacted')
    })

    t.test('HTTP 500 before the stream → ADAPTER, no retry; 400 → ADAPTER', async (t) => {
      const adapter = await adapterFor(t)
      fake().faults.statuses.push({ status: 500, body: '{"error":{"code":500,"message":"internal","type":"server_error"}}' })
      t.match(await collect(adapter.submit(req(), opts())), [{ kind: 'error', data: { kind: 'ADAPTER', retriable: false, upstream_status: 500 } }])
      t.equal(fake().hits(path).length, 1)
      fake().faults.statuses.push({ status: 400, body: '{"error":{"code":400,"message":"bad request","type":"invalid_request_error"}}' })
      t.match(await collect(adapter.submit(req(), opts())), [{ kind: 'error', data: { kind: 'ADAPTER', upstream_status: 400 } }])
    })

    t.test('health follows the engine: 200 ready, 503 live but not ready, nothing listening → neither (scenario 17)', async (t) => {
      const adapter = await adapterFor(t)
      t.same(await adapter.health(), { live: true, ready: true })
      fake().faults.healthStatus = 503
      t.same(await adapter.health(), { live: true, ready: false })
      const dead = await adapterFor(t, {}, await refusedUrl())
      t.same(await dead.health(), { live: false, ready: false })
    })
  })
}
