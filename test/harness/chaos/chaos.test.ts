import t from 'tap'
import { runChaos, type ChaosSummary } from './run.js'

// ORCH-3051, CI-sized: ≥ 1,000 tasks against the fault mix through the public API, a cancel
// storm, queue saturation, drain/reload under load and (with the embedded engine) SIGKILL and
// SIGSTOP/SIGCONT of a real worker. One run; every invariant below is judged on its summary.
t.setTimeout(150_000)

const seed = Number(process.env.LLORCH_CHAOS_SEED ?? 20251202)
let s: ChaosSummary

t.before(async () => { s = await runChaos({ t, seed, processFaults: true }) })

t.test('ORCH-3051: a CI-sized chaos run drives ≥ 1,000 faulted tasks with every fault kind', async (t) => {
  t.ok(s.faulted_tasks >= 1000, `${s.faulted_tasks} tasks in the chaos rounds`)
  for (const k of ['latency', 'refuse', 'reset', 'status', 'stall', 'malformed', 'drip', 'restart', 'drain+reload', 'SIGKILL', 'SIGSTOP']) {
    t.ok((s.faults[k] ?? 0) > 0, `fault ${k} injected ${s.faults[k] ?? 0} times`)
  }
  t.ok(s.canceled > 0 && s.canceled_ends > 0, `${s.canceled} cancels acknowledged, ${s.canceled_ends} of them mid-stream`)
  t.ok(Object.keys(s.errors_by_code).length > 0, `faults surfaced as error frames: ${JSON.stringify(s.errors_by_code)}`)
  t.equal(s.seed, seed)
})

t.test('ORCH-3051 §6.5: every stream ends with exactly one terminal event, none lost, none duplicated, nothing after it', async (t) => {
  t.equal(s.lost, 0, 'lost')
  t.equal(s.duplicated, 0, 'duplicated')
  t.equal(s.frames_after_terminal, 0, 'frames after the terminal frame')
})

t.test('ORCH-3051 §6.5: no token after cancel (after the cancel acknowledgment)', async (t) => {
  t.equal(s.post_cancel_tokens, 0)
})

t.test('ORCH-3051 §6.5: queue saturation answers 429 with Retry-After; those tasks were never accepted', async (t) => {
  t.ok(s.rejected_429 > 0, `${s.rejected_429} tasks refused with 429`)
  t.equal(s.rejected_429_without_retry_after, 0, 'every 429 carries Retry-After')
  t.equal(s.refused['429 ADMISSION_REJECT'] ?? 0, s.rejected_429, 'counted apart from accepted tasks, as ADMISSION_REJECT')
})

t.test('ORCH-3051 §6.5: /readyz back to 200 after the last fault, the in-flight table empty', async (t) => {
  t.not(s.ready_after, null, `ready ${s.ready_after} ms after the last fault`)
  t.ok(s.ready_after! <= 10_000, 'within 10 s')
  t.equal(s.in_flight_end, 0, 'no queued or leased task left on any pool')
  t.same(s.slo_breaches, [], 'no SLO breach')
})

t.test('ORCH-3051 §6.5: tasks_started_total agrees with the streams (dispatched ⊆ accepted)', async (t) => {
  t.not(s.tasks_started_total, null)
  t.ok(s.tasks_started_total! >= s.tokened_streams, `tasks_started_total ${s.tasks_started_total} ≥ ${s.tokened_streams} streams that got a token`)
  t.ok(s.tasks_started_total! <= s.started_streams, `tasks_started_total ${s.tasks_started_total} ≤ ${s.started_streams} accepted streams`)
})

t.test('ORCH-3051 §6.5: process faults on the embedded worker recover (engine restart, simulated hang)', async (t) => {
  for (const fault of ['SIGKILL', 'SIGSTOP']) {
    const r = s.recovery.find((x) => x.fault === fault)
    t.ok(r, `${fault} round ran`)
    t.not(r?.ready_after_ms, null, `${fault}: ready again after ${r?.ready_after_ms} ms`)
    t.equal(r?.next_task, 'end', `${fault}: the next task succeeds`)
  }
  t.equal(s.recovery.find((x) => x.fault === 'SIGKILL')?.readyz_dropped, true, 'SIGKILL: /readyz went 503 first')
})

t.test('orchestrator RSS does not grow across rounds beyond a tolerance (reported)', async (t) => {
  // generous: the point is catching a leak of tens of MB per round, not allocator noise
  t.ok(s.rss_growth_mb < 120, `RSS ${JSON.stringify(s.rss_mb)} MB; last − median(early) = ${s.rss_growth_mb} MB < 120`)
  t.ok(s.duration_ms < 90_000, `the run took ${s.duration_ms} ms`)
})
