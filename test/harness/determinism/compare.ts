/**
 * What "byte-identical" means (spec adapters §6.3, D4): the ordered `token` frames, event and
 * data bytes, and `tokens_out` must be equal; timing fields of `started`, `metrics` and `end`
 * are not compared. Pure functions over SSE transcripts, so the suite's own verdicts can be
 * tested on streams broken on purpose.
 */
import { parseSse } from '../../fixtures/dataplane.js'

export interface Stream {
  /** `event: token` frames as `<event> <data>` lines, in order. */
  tokens: string[]
  tokens_out: number | null
  /** What the `started` frame says the stream ran on (replica-invariant, D20). */
  started: { engine_version?: string, engine_digest?: string, model_digest?: string, sampler_profile_version?: string }
  /** The terminal frame's event (`end` or `error`), null when there is none. */
  terminal: string | null
  text: string
}

export function streamOf (sse: string): Stream {
  const frames = parseSse(sse)
  const tokens = frames.filter((f) => f.event === 'token')
  const end = frames.find((f) => f.event === 'end' || f.event === 'error')
  const started = (frames.find((f) => f.event === 'started')?.json ?? {}) as Stream['started']
  return {
    tokens: tokens.map((f) => `${f.event} ${f.data}`),
    tokens_out: typeof end?.json.tokens_out === 'number' ? end.json.tokens_out : null,
    started: {
      ...(started.engine_version !== undefined ? { engine_version: started.engine_version } : {}),
      ...(started.engine_digest !== undefined ? { engine_digest: started.engine_digest } : {}),
      ...(started.model_digest !== undefined ? { model_digest: started.model_digest } : {}),
      ...(started.sampler_profile_version !== undefined ? { sampler_profile_version: started.sampler_profile_version } : {}),
    },
    terminal: end?.event ?? null,
    text: tokens.map((f) => String(f.json.t ?? '')).join(''),
  }
}

export interface Verdict {
  identical: boolean
  /** The first token frame that differs (index into the token frames), or a tokens_out/terminal difference. */
  first_diff: { index: number, a: string | null, b: string | null } | null
  /** One line a person reads: what differs, where. */
  message: string
}

export function compareStreams (a: Stream, b: Stream, label = ''): Verdict {
  const n = Math.max(a.tokens.length, b.tokens.length)
  for (let i = 0; i < n; i++) {
    if (a.tokens[i] !== b.tokens[i]) {
      const diff = { index: i, a: a.tokens[i] ?? null, b: b.tokens[i] ?? null }
      return { identical: false, first_diff: diff, message: `${label}first differing token at ${i}: ${diff.a ?? '(none)'} ≠ ${diff.b ?? '(none)'}` }
    }
  }
  if (a.tokens_out !== b.tokens_out) {
    const diff = { index: n, a: String(a.tokens_out), b: String(b.tokens_out) }
    return { identical: false, first_diff: diff, message: `${label}tokens_out ${a.tokens_out} ≠ ${b.tokens_out}` }
  }
  if (a.terminal !== 'end' || b.terminal !== 'end') {
    const ends = `${a.terminal ?? 'no terminal frame'} / ${b.terminal ?? 'no terminal frame'}`
    return { identical: false, first_diff: null, message: `${label}a stream did not end cleanly (${ends})` }
  }
  return { identical: true, first_diff: null, message: `${label}identical (${a.tokens.length} tokens)` }
}

/** Why two streams are not comparable (their pinned values differ, §6.3: the run is invalid, not drifting), or null. */
export function pinMismatch (a: Stream, b: Stream): string | null {
  for (const k of ['engine_version', 'engine_digest', 'model_digest', 'sampler_profile_version'] as const) {
    if (a.started[k] !== b.started[k]) return `${k} ${a.started[k] ?? '(unset)'} ≠ ${b.started[k] ?? '(unset)'}`
  }
  return null
}

/** A unified-diff-like listing of two token sequences, for `diff/<case>.diff`. */
export function tokenDiff (a: Stream, b: Stream): string {
  const out: string[] = []
  const n = Math.max(a.tokens.length, b.tokens.length)
  for (let i = 0; i < n; i++) {
    if (a.tokens[i] === b.tokens[i]) out.push(`  ${a.tokens[i]}`)
    else {
      if (a.tokens[i] !== undefined) out.push(`- ${a.tokens[i]}`)
      if (b.tokens[i] !== undefined) out.push(`+ ${b.tokens[i]}`)
    }
  }
  return out.join('\n') + '\n'
}

/** The share of distinct pairs among streams that should differ (different seeds, one prompt). */
export function distinctShare (groups: ReadonlyArray<readonly Stream[]>): { pairs: number, distinct: number } {
  let pairs = 0
  let distinct = 0
  for (const g of groups) {
    for (let i = 0; i < g.length; i++) {
      for (let j = i + 1; j < g.length; j++) {
        pairs++
        if (!compareStreams(g[i]!, g[j]!).identical) distinct++
      }
    }
  }
  return { pairs, distinct }
}
