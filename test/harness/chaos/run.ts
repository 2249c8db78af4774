/**
 * The chaos run (spec adapters §6.5, ORCH-3051): the whole app from `build()` on a loopback port,
 * fake llama.cpp engines behind fault proxies as external pools, and (optionally) a real embedded
 * worker for process faults. It drives only the public HTTP API in bounded rounds (counts and
 * times are capped), checks the invariants after each round from what the API returned, and
 * writes the chaos proof bundle (§6.7). Off by default: only the chaos tests call it.
 */
import type { Test } from 'tap'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'
import { build } from '../../helpers/build.js'
import { fakeLlamaServer } from '../../fixtures/engines/llama-server.js'
import type { FakeEngine } from '../../fixtures/engines/fake-engine.js'
import { writeTinyModel } from '../../../extensions/provider-embedded/tiny-file.js'
import { openSuite } from '../bundle.js'
import { FaultProxy, type TimelineEvent } from './fault-proxy.js'
import { checkInvariants, mergeVerdicts, type Verdict } from './invariants.js'
import { prng, type Rng } from './prng.js'
import { drawFault, MIXES, type Mix } from './schedule.js'
import { agent, runTask, type ClientFault, type TaskSpec, type Transcript } from './workload.js'
import { becameUnready, getJson, readyAfter, signal, workerPid } from './process-faults.js'
import { manifestFor, MODEL, SAT_MODEL, EMBEDDED_MODEL, IDLE_MS } from './manifest.js'

export interface ChaosOptions {
  t: Test
  seed?: number
  /** Tasks across the chaos rounds (each sees the fault mix); default 1000. */
  faultedTasks?: number
  rounds?: number
  concurrency?: number
  saturation?: boolean
  drainReload?: boolean
  /** The SIGKILL and SIGSTOP/SIGCONT round on a real embedded worker. */
  processFaults?: boolean
  /** A broken client reader (the harness's own test). */
  clientFault?: ClientFault
  /** Write the proof bundle (default true; the broken-harness test must not overwrite it). */
  bundle?: boolean
  /** ms the app gets to be Ready again after the last fault. */
  readyBoundMs?: number
}

export interface ChaosSummary {
  seed: number
  tasks: number
  /** Tasks of the chaos rounds (every one drawn against the fault mix). */
  faulted_tasks: number
  faults: Record<string, number>
  lost: number
  duplicated: number
  frames_after_terminal: number
  post_cancel_tokens: number
  ready_after: number | null
  rejected_429: number
  rejected_429_without_retry_after: number
  refused: Record<string, number>
  canceled: number
  canceled_ends: number
  ends: number
  errors_by_code: Record<string, number>
  started_streams: number
  /** Accepted streams with a token frame: `tasks_started_total` must lie in [tokened_streams, started_streams]. */
  tokened_streams: number
  tasks_started_total: number | null
  /** Sum of queue_depth + active_leases over the pools at the end (the in-flight table, spec §6.5). */
  in_flight_end: number | null
  rss_mb: number[]
  rss_growth_mb: number
  recovery: Array<Record<string, unknown>>
  slo_breaches: Array<{ slo: string, bound_ms: number, value_ms: number | null }>
  duration_ms: number
  rounds: Array<{ name: string, tasks: number, lost: number, duplicated: number, post_cancel_tokens: number, ms: number }>
}

// a collection before each sample keeps the RSS series about live memory, not GC timing
v8.setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
const rssMb = (): number => { gc(); return Math.round(process.memoryUsage().rss / 1048576) }
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]! }

/** `n` tasks with at most `concurrency` in flight; task `i`'s spec comes from `rng.fork(i)` (reproducible). */
async function drive (base: string, n: number, concurrency: number, spec: (i: number) => TaskSpec): Promise<Transcript[]> {
  const out: Transcript[] = new Array(n)
  let next = 0
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, async () => {
    while (next < n) { const i = next++; out[i] = await runTask(base, spec(i)) }
  }))
  return out
}

const roundRow = (name: string, tasks: number, v: Verdict, ms: number): ChaosSummary['rounds'][number] =>
  ({ name, tasks, lost: v.lost, duplicated: v.duplicated, post_cancel_tokens: v.post_cancel_tokens, ms })

async function post (base: string, path: string, body: unknown): Promise<{ statusCode: number }> {
  const r = await request(base + path, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  await r.body.dump()
  return r
}

/** The tasks_started_total samples summed over their labels. */
async function startedTotal (base: string): Promise<number | null> {
  const text = String((await getJson(base, '/metrics')).body)
  const lines = text.split('\n').filter((l) => l.startsWith('tasks_started_total'))
  return lines.length ? lines.reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0) : null
}

export async function runChaos (o: ChaosOptions): Promise<ChaosSummary> {
  const seed = o.seed ?? 20251202
  const rng = prng(seed)
  const t0 = Date.now()
  const harness: TimelineEvent[] = []
  const mark = (kind: string, detail?: unknown): void => {
    const e = { t_ms: Date.now() - t0, proxy: 'harness', seq: -1, kind: kind as TimelineEvent['kind'], path: '' }
    harness.push(detail === undefined ? e : { ...e, detail })
  }
  const root = await mkdtemp(join(tmpdir(), 'orc-chaos-'))
  o.t.teardown(() => rm(root, { recursive: true, force: true }))
  await writeTinyModel(join(root, 'tiny.gguf'))

  // one fake engine and one proxy per pool; the mix is switched per phase, the draws are seeded
  let mix: Mix = MIXES.pass
  const engines: FakeEngine[] = []
  const proxies: FaultProxy[] = []
  for (const name of ['a', 'b', 'sat']) {
    const fake = await fakeLlamaServer({ slots: 8 })
    // 24 tokens 2 ms apart: long enough that cancels and resets land mid-stream
    fake.faults.tokens = Array.from({ length: 24 }, (_, i) => ` t${i}`)
    fake.faults.tokenDelayMs = 2
    const draws = rng.fork(name.charCodeAt(0))
    const proxy = await FaultProxy.start({
      name,
      upstream: fake.url,
      t0,
      schedule: () => drawFault(draws, name === 'sat' ? MIXES.saturate : mix),
    })
    engines.push(fake)
    proxies.push(proxy)
  }
  o.t.teardown(async () => { for (const p of proxies) await p.close(); for (const e of engines) await e.close() })

  const { app, capture } = await build(o.t, manifestFor({ root, ports: proxies.map((p) => p.port), embedded: o.processFaults === true }))
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const bootMs = await readyAfter(base, Date.now(), 90_000)
  if (bootMs === null) throw new Error('the app never became Ready')
  mark('ready', { boot_ms: bootMs })

  // narration kept bounded (a few records per action) so the capture does not grow the RSS we measure
  const narration: ReturnType<typeof capture.records> = []
  const perAction = new Map<string, number>()
  const keepNarration = (): void => {
    for (const r of capture.records()) {
      const k = `${r.actor}/${r.action}`
      const n = perAction.get(k) ?? 0
      if (n < 20 || (r.level >= 50 && narration.length < 5000)) { narration.push(r); perAction.set(k, n + 1) }
    }
    capture.clear()
  }

  const verdicts: Verdict[] = []
  const failing: Transcript[] = []
  const seen = new Set<string>()
  const rounds: ChaosSummary['rounds'] = []
  const rss: number[] = []
  let total = 0
  const concurrency = o.concurrency ?? 32
  const taskSpec = (r: Rng, model: string, cancelP: number): TaskSpec => ({
    model_ref: model,
    prompt: 'chaos',
    max_tokens: r.int(4, 24),
    via: r.chance(0.7) ? 'post-sse' : 'post-get',
    ...(r.chance(cancelP) ? { cancelAt: r.int(0, 16) } : {}),
    clientFault: o.clientFault ?? null,
  })
  const round = async (name: string, n: number, spec: (i: number) => TaskSpec, during?: () => Promise<void>): Promise<Verdict> => {
    const started = Date.now()
    mark('round-start', { round: name, tasks: n })
    const [trs] = await Promise.all([drive(base, n, concurrency, spec), during?.()])
    const v = checkInvariants(trs, seen)
    const bad = new Set(v.failing.map((f) => f.task_id))
    for (const tr of trs) if (bad.has(tr.task_id) && failing.length < 25) failing.push(tr)
    verdicts.push(v)
    total += n
    keepNarration()
    // the fakes record every request: cleared, so the RSS series is the orchestrator's
    for (const e of engines) { e.requests.length = 0; e.streams.length = 0 }
    rss.push(rssMb())
    rounds.push(roundRow(name, n, v, Date.now() - started))
    mark('round-end', { round: name, rss_mb: rss.at(-1) })
    return v
  }

  const startedBefore = await startedTotal(base) ?? 0
  // warm-up: no faults; its RSS is not compared (JIT, pools and agents settle)
  await round('warm-up', 64, (i) => taskSpec(rng.fork(1000 + i), MODEL, 0.2))

  const faultedTasks = o.faultedTasks ?? 1000
  const nRounds = o.rounds ?? 5
  const perRound = Math.ceil(faultedTasks / nRounds)
  mix = MIXES.chaos
  let lastFault = Date.now()
  for (let r = 0; r < nRounds; r++) {
    const storm = r === 2 // round 3 is a cancel storm: nearly every task cancels mid-stream
    const rr = rng.fork(2000 + r)
    await round(storm ? `chaos-${r + 1}-cancel-storm` : `chaos-${r + 1}`, perRound, (i) => taskSpec(rr.fork(i), MODEL, storm ? 0.9 : 0.25), async () => {
      if (r !== 1) return
      // engine restart: all sockets of pool a closed, then 503 for 300 ms
      await sleep(50)
      proxies[0]!.restart(300)
      mark('engine-restart', { pool: 'a', ms: 300 })
    })
    lastFault = Date.now()
  }
  const faultedCount = perRound * nRounds

  let rejected429 = 0
  let without = 0
  if (o.saturation !== false) {
    // a burst of 96 at once at a pool with 2 slots and a queue of 8, every stream dripping
    const before = Date.now()
    const bursts: Transcript[] = await Promise.all(Array.from({ length: 96 }, (_, i) =>
      runTask(base, { ...taskSpec(rng.fork(3000 + i), SAT_MODEL, 0.1), max_tokens: 8 })))
    const v = checkInvariants(bursts, seen)
    for (const tr of bursts) {
      if (tr.status === 429) { rejected429++; if (!tr.refusal?.retry_after) without++ }
    }
    verdicts.push(v)
    total += bursts.length
    rounds.push(roundRow('saturation', bursts.length, v, Date.now() - before))
    mark('saturation', { tasks: bursts.length, rejected_429: rejected429 })
    keepNarration()
    rss.push(rssMb())
  }

  const recovery: Array<Record<string, unknown>> = []
  if (o.drainReload !== false) {
    mix = MIXES.light
    const rr = rng.fork(4000)
    await round('drain-reload', 300, (i) => taskSpec(rr.fork(i), MODEL, 0.2), async () => {
      await sleep(100)
      const at = Date.now()
      mark('drain', { pool: 'b' })
      const d = await post(base, '/v1/pools/b/drain', { deadline_ms: 2000 })
      const stoppedMs = await waitHealth(base, 'b', (h) => h.state === 'Stopped', 10_000)
      mark('drained', { pool: 'b', status: d.statusCode, ms: stoppedMs })
      const r = await post(base, '/v1/pools/b/reload', { new_model_ref: 'tiny.gguf' })
      const backMs = await waitHealth(base, 'b', (h) => h.ready === true, 10_000)
      mark('reloaded', { pool: 'b', status: r.statusCode, ms: backMs })
      recovery.push({
        fault: 'drain+reload',
        pool: 'b',
        drain_status: d.statusCode,
        reload_status: r.statusCode,
        stopped_after_ms: stoppedMs,
        ready_after_ms: backMs,
        total_ms: Date.now() - at,
      })
    })
    lastFault = Date.now()
  }
  mix = MIXES.pass

  if (o.processFaults) {
    const pr = await processRound(base, mark)
    recovery.push(...pr.recovery)
    const v = checkInvariants(pr.transcripts, seen)
    verdicts.push(v)
    total += pr.transcripts.length
    rounds.push(roundRow('process-faults', pr.transcripts.length, v, pr.ms))
    for (const tr of pr.transcripts) if (v.failing.some((f) => f.task_id === tr.task_id)) failing.push(tr)
    keepNarration()
    rss.push(rssMb())
    lastFault = pr.lastFault
  }

  const readyAfterMs = await readyAfter(base, lastFault, o.readyBoundMs ?? 15_000)
  mark('final-ready', { ready_after_ms: readyAfterMs })
  const startedAfter = await startedTotal(base)
  const inFlight = await inFlightEnd(base, ['a', 'b', 'sat', ...(o.processFaults ? ['emb'] : [])], 5000)
  const all = mergeVerdicts(verdicts)
  // early = the first two chaos rounds (index 1 and 2; 0 is the warm-up)
  const growth = rss.length > 3 ? rss.at(-1)! - median(rss.slice(1, 3)) : 0
  const faults: Record<string, number> = {}
  for (const p of proxies) for (const [k, n] of Object.entries(p.counts)) faults[k] = (faults[k] ?? 0) + n
  faults.restart = proxies.reduce((s, p) => s + p.timeline.filter((e) => e.kind === 'restart').length, 0)
  for (const r of recovery) faults[String(r.fault)] = (faults[String(r.fault)] ?? 0) + 1

  const slo = [
    { slo: 'ready_after_last_fault', bound_ms: 10_000, value_ms: readyAfterMs },
    ...recovery.filter((r) => typeof r.ready_after_ms === 'number' || r.ready_after_ms === null)
      .map((r) => ({ slo: `recovery:${String(r.fault)}`, bound_ms: 30_000, value_ms: r.ready_after_ms as number | null })),
  ]
  const summary: ChaosSummary = {
    seed,
    tasks: total,
    faulted_tasks: faultedCount,
    faults,
    lost: all.lost,
    duplicated: all.duplicated,
    frames_after_terminal: all.frames_after_terminal,
    post_cancel_tokens: all.post_cancel_tokens,
    ready_after: readyAfterMs,
    rejected_429: rejected429,
    rejected_429_without_retry_after: without,
    refused: all.refused,
    canceled: all.canceled,
    canceled_ends: all.canceled_ends,
    ends: all.ends,
    errors_by_code: all.errors_by_code,
    started_streams: all.started,
    tokened_streams: all.tokened,
    in_flight_end: inFlight,
    tasks_started_total: startedAfter === null ? null : startedAfter - startedBefore,
    rss_mb: rss,
    rss_growth_mb: growth,
    recovery,
    slo_breaches: slo.filter((s) => s.value_ms === null || s.value_ms > s.bound_ms),
    duration_ms: Date.now() - t0,
    rounds,
  }
  if (o.bundle !== false) {
    const b = await openSuite('chaos')
    const perProxy = proxies.map((p) => ({ proxy: p.name, generations: p.generations, counts: p.counts }))
    await b.write('faults.json', { seed, counts: faults, per_proxy: perProxy, mixes: MIXES, idle_ms: IDLE_MS })
    await b.writeLines('timeline.ndjson', [...harness, ...proxies.flatMap((p) => p.timeline)].sort((x, y) => x.t_ms - y.t_ms))
    await b.write('recovery.json', { boot_ms: bootMs, ready_after_last_fault_ms: readyAfterMs, operations: recovery })
    await b.write('slo_breaches.json', { slos: slo, breaches: summary.slo_breaches })
    for (const tr of failing) await b.write(`failing/${tr.task_id}.json`, { why: all.failing.find((f) => f.task_id === tr.task_id)?.why, transcript: tr })
    await b.narration(narration)
    await b.finish({ ...summary, failing: all.failing.slice(0, 50) }, { env: { LLORCH_CHAOS_SEED: String(seed) } })
  }
  return summary
}

/** Queued plus leased tasks over `pools`, polled until 0 or `boundMs` (leases are released just after the end frame). */
async function inFlightEnd (base: string, pools: string[], boundMs: number): Promise<number | null> {
  const at = Date.now()
  for (;;) {
    let n = 0
    for (const p of pools) {
      const m = (await getJson(base, `/v1/pools/${p}/health`)).body?.metrics
      if (!m) return null
      n += (m.queue_depth ?? 0) + (m.active_leases ?? 0)
    }
    if (n === 0 || Date.now() - at > boundMs) return n
    await sleep(25)
  }
}

/** Polls the public pool health until `pred`; ms it took, or null past `boundMs`. */
async function waitHealth (base: string, pool: string, pred: (h: any) => boolean, boundMs: number): Promise<number | null> {
  const at = Date.now()
  while (Date.now() - at < boundMs) {
    if (pred((await getJson(base, `/v1/pools/${pool}/health`)).body)) return Date.now() - at
    await sleep(20)
  }
  return null
}

/**
 * SIGKILL, then SIGSTOP/SIGCONT, of the embedded worker while a task streams from it; each time
 * the stream must end with one terminal frame, `/readyz` must drop and come back, and a new task
 * must succeed. Recovery is measured from the signal to `/readyz` 200.
 */
interface ProcessRound { transcripts: Transcript[], recovery: Array<Record<string, unknown>>, ms: number, lastFault: number }

async function processRound (base: string, mark: (kind: string, detail?: unknown) => void): Promise<ProcessRound> {
  const started = Date.now()
  const transcripts: Transcript[] = []
  const recovery: Array<Record<string, unknown>> = []
  const long: TaskSpec = { model_ref: EMBEDDED_MODEL, prompt: 'abc', max_tokens: 1500, via: 'post-sse', deadline_ms: 60_000 }
  let lastFault = Date.now()
  for (const fault of ['SIGKILL', 'SIGSTOP'] as const) {
    const pid = await workerPid(base, 'emb', 60_000)
    const streaming = runTask(base, long)
    await sleep(300) // the stream is under way (the tiny model streams thousands of tokens/s)
    const at = Date.now()
    signal(pid, fault)
    mark(fault, { pool: 'emb', pid })
    let contAt: number | null = null
    let contDelivered: boolean | null = null
    let unready: boolean
    if (fault === 'SIGSTOP') {
      // hung long enough for the idle timeout and failed probes, then resumed
      const noticed = becameUnready(base, 2500)
      await sleep(2500)
      unready = await noticed
      // false: the supervisor found the worker hung and replaced it while it was stopped
      contDelivered = signal(pid, 'SIGCONT')
      contAt = Date.now()
      mark('SIGCONT', { pool: 'emb', pid, delivered: contDelivered })
    } else unready = await becameUnready(base, 5000)
    const tr = await streaming
    transcripts.push(tr)
    lastFault = Date.now()
    const back = await readyAfter(base, at, 60_000)
    const after = await runTask(base, { ...long, max_tokens: 8 })
    transcripts.push(after)
    const h = (await getJson(base, '/v1/pools/emb/health')).body
    recovery.push({
      fault,
      pool: 'emb',
      pid,
      new_pid: h?.replicas?.[0]?.pid ?? null,
      readyz_dropped: unready,
      stream_terminal: tr.frames.at(-1)?.event === 'error' ? `error ${String(tr.frames.at(-1)!.json?.code)}` : tr.frames.at(-1)?.event ?? null,
      ready_after_ms: back,
      ...(contAt ? { stopped_ms: contAt - at, sigcont_delivered: contDelivered } : {}),
      next_task: after.frames.at(-1)?.event ?? after.status,
      restart_count: h?.restart_count ?? null,
    })
    mark('recovered', { fault, ready_after_ms: back })
  }
  return { transcripts, recovery, ms: Date.now() - started, lastFault }
}
