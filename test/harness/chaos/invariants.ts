/**
 * The chaos invariants (spec adapters §6.5, ORCH-3051) as a pure function of client transcripts,
 * so the same checker judges a real run and deliberately broken input (chaos-broken.test.ts).
 *
 * - every accepted task (202 or an opened stream) ends with exactly one terminal frame (`end` or
 *   `error`): none lost (zero), none duplicated (two, or one task id streamed twice), and nothing
 *   after it;
 * - no token after cancel: a token frame that reached the client after the cancel endpoint's
 *   acknowledgment counts, unless it left the server in the same write as the cancel's terminal
 *   frame. The server concludes a cancel synchronously and flushes the frames logged before it in
 *   one write with the `end`, so those tokens were generated before the cancel and may be in
 *   flight when the 204 overtakes them on its own connection; anything later is a real breach.
 */
import type { Transcript } from './workload.js'

export interface Verdict {
  accepted: number
  /** Refused at admission (never accepted): by status and code. */
  refused: Record<string, number>
  lost: number
  duplicated: number
  frames_after_terminal: number
  post_cancel_tokens: number
  /** Tasks whose cancel was acknowledged. */
  canceled: number
  /** Of those, the ones that ended `end` with `canceled: true` (the rest had ended first). */
  canceled_ends: number
  ends: number
  errors_by_code: Record<string, number>
  /** Accepted tasks whose stream showed a `started` (admission) frame. */
  started: number
  /** Accepted tasks with at least one token frame: surely dispatched, so `tasks_started_total` is at least this. */
  tokened: number
  /** Task ids breaching an invariant, with why. */
  failing: Array<{ task_id: string, why: string[] }>
}

const TERMINAL = new Set(['end', 'error'])

/** `seen`: task ids of earlier rounds, so a task streamed again in a later round counts too. */
export function checkInvariants (transcripts: readonly Transcript[], seen: Set<string> = new Set()): Verdict {
  const v: Verdict = {
    accepted: 0,
    refused: {},
    lost: 0,
    duplicated: 0,
    frames_after_terminal: 0,
    post_cancel_tokens: 0,
    canceled: 0,
    canceled_ends: 0,
    ends: 0,
    errors_by_code: {},
    started: 0,
    tokened: 0,
    failing: [],
  }
  for (const tr of transcripts) {
    if (tr.refusal) {
      const k = `${tr.status} ${tr.refusal.code}`
      v.refused[k] = (v.refused[k] ?? 0) + 1
      continue
    }
    v.accepted++
    const why: string[] = []
    if (seen.has(tr.task_id)) { v.duplicated++; why.push('task id streamed twice') }
    seen.add(tr.task_id)
    const terminals = tr.frames.flatMap((f, i) => TERMINAL.has(f.event) ? [i] : [])
    if (terminals.length === 0) { v.lost++; why.push(`no terminal frame${tr.read_error ? ` (${tr.read_error})` : ''}`) }
    if (terminals.length > 1) { v.duplicated++; why.push(`${terminals.length} terminal frames`) }
    const first = terminals[0]
    if (first !== undefined) {
      const after = tr.frames.length - first - 1
      if (after > 0) { v.frames_after_terminal += after; why.push(`${after} frames after the terminal frame`) }
      const term = tr.frames[first]!
      if (term.event === 'end') v.ends++
      else {
        const code = String(term.json?.code ?? 'UNKNOWN')
        v.errors_by_code[code] = (v.errors_by_code[code] ?? 0) + 1
      }
    }
    if (tr.frames.some((f) => f.event === 'started')) v.started++
    if (tr.frames.some((f) => f.event === 'token')) v.tokened++
    if (tr.cancel_status !== undefined && tr.cancel_status >= 200 && tr.cancel_status < 300) {
      v.canceled++
      const term = first === undefined ? undefined : tr.frames[first]
      if (term?.event === 'end' && term.json?.canceled === true) v.canceled_ends++
      const post = tr.frames.filter((f, i) =>
        f.event === 'token' && f.afterAck && (first === undefined || i > first || f.chunk !== term!.chunk)).length
      if (post > 0) { v.post_cancel_tokens += post; why.push(`${post} token frames after the cancel acknowledgment`) }
    }
    if (why.length) v.failing.push({ task_id: tr.task_id, why })
  }
  return v
}

const COUNTS = [
  'accepted', 'lost', 'duplicated', 'frames_after_terminal', 'post_cancel_tokens', 'canceled', 'canceled_ends', 'ends', 'started', 'tokened',
] as const

/** Sums verdicts of several rounds (the failing lists concatenate). */
export function mergeVerdicts (vs: readonly Verdict[]): Verdict {
  const out = checkInvariants([])
  for (const v of vs) {
    for (const k of COUNTS) out[k] += v[k]
    for (const [k, n] of Object.entries(v.refused)) out.refused[k] = (out.refused[k] ?? 0) + n
    for (const [k, n] of Object.entries(v.errors_by_code)) out.errors_by_code[k] = (out.errors_by_code[k] ?? 0) + n
    out.failing.push(...v.failing)
  }
  return out
}
