import t from 'tap'
import { checkInvariants } from './invariants.js'
import { runChaos } from './run.js'
import type { TFrame, Transcript } from './workload.js'

// A test of the harness (ORCH-3051): its checker must see each breach it exists to catch. The
// orchestrator itself turns a cut engine stream into an `error` frame, so breaking the engine side
// proves nothing; the observed side is broken instead (a lossy or duplicating client reader).
t.setTimeout(90_000)

const f = (event: string, chunk: number, json: Record<string, unknown> = {}, afterAck = false): TFrame => ({ event, json, chunk, afterAck })
let n = 0
const tr = (frames: TFrame[], extra: Partial<Transcript> = {}): Transcript => ({ task_id: `t${n++}`, via: 'post-sse', status: 200, frames, ...extra })
const ok = (): TFrame[] => [f('started', 0), f('token', 0, { t: 'a', i: 0 }), f('end', 1, { tokens_out: 1 })]

t.test('the checker (pure): a clean transcript passes, each breach is counted with its task named', async (t) => {
  t.match(checkInvariants([tr(ok())]), { accepted: 1, lost: 0, duplicated: 0, post_cancel_tokens: 0, frames_after_terminal: 0, failing: [] })
  const lost = checkInvariants([tr(ok().slice(0, 2), { task_id: 'L' })])
  t.match(lost, { lost: 1, failing: [{ task_id: 'L', why: [/no terminal frame/] }] }, 'a stream without a terminal frame is lost')
  t.equal(checkInvariants([tr([...ok(), f('error', 2, { code: 'INTERNAL' })])]).duplicated, 1, 'two terminal frames: duplicated')
  t.equal(checkInvariants([tr(ok(), { task_id: 'X' }), tr(ok(), { task_id: 'X' })]).duplicated, 1, 'one task id streamed twice: duplicated')
  t.equal(checkInvariants([tr(ok(), { task_id: 'Y' })], new Set(['Y'])).duplicated, 1, 'also across rounds')
  t.equal(checkInvariants([tr([...ok(), f('token', 2)])]).frames_after_terminal, 1, 'a frame after the terminal one')
  const refused = checkInvariants([{ task_id: 'r', via: 'post-sse', status: 429, frames: [], refusal: { code: 'ADMISSION_REJECT', retry_after: '1' } }])
  t.match(refused, { accepted: 0, lost: 0, refused: { '429 ADMISSION_REJECT': 1 } }, 'a refusal was never accepted and is not lost')
})

t.test('the checker (pure): tokens after the cancel acknowledgment', async (t) => {
  const canceledEnd = f('end', 3, { tokens_out: 2, canceled: true }, true)
  const inFlight = tr([f('started', 0), f('token', 1), f('token', 3, {}, true), canceledEnd], { cancel_status: 204 })
  t.match(checkInvariants([inFlight]), { post_cancel_tokens: 0, canceled: 1, canceled_ends: 1 },
    'a token flushed with the cancel\'s end frame was generated before the cancel')
  const late = tr([f('started', 0), f('token', 1), f('token', 2, {}, true), canceledEnd], { cancel_status: 204 })
  t.equal(checkInvariants([late]).post_cancel_tokens, 1, 'a token in a later write than the ack, not with the end: counted')
  const noAck = tr([f('started', 0), f('token', 1), f('token', 2), f('end', 3)], { cancel_status: 204 })
  t.equal(checkInvariants([noAck]).post_cancel_tokens, 0, 'tokens before the ack are fine')
})

// the whole run with a broken reader: the summary must report the breach
const small = { faultedTasks: 120, rounds: 2, saturation: false, drainReload: false, bundle: false, readyBoundMs: 5000 }

t.test('a lossy client (drops the terminal frame) makes the run report lost > 0 (ORCH-3051)', async (t) => {
  const s = await runChaos({ t, ...small, clientFault: 'drop-terminal' })
  t.ok(s.lost > 0, `lost = ${s.lost}`)
})

t.test('a duplicating client (repeats the terminal frame) makes the run report duplicated > 0 (ORCH-3051)', async (t) => {
  const s = await runChaos({ t, ...small, clientFault: 'dup-terminal' })
  t.ok(s.duplicated > 0, `duplicated = ${s.duplicated}`)
  t.equal(s.lost, 0)
})

t.test('a client that sees a token after its cancel ack makes the run report post_cancel_tokens > 0 (ORCH-3051)', async (t) => {
  const s = await runChaos({ t, ...small, clientFault: 'token-after-ack' })
  t.ok(s.post_cancel_tokens > 0, `post_cancel_tokens = ${s.post_cancel_tokens}`)
  t.equal(s.lost, 0)
  t.equal(s.duplicated, 0)
})
