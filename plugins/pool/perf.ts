/**
 * Perf hints measured at preload (ORCH-3420): `first_token_ms` and `perf_tokens_per_s` from
 * one short greedy streamed completion on a llama-server API (after a 1-token warm-up, so the
 * figure is the steady state, not the first-touch cost). Other engines get no hint (null).
 */
import { request } from 'undici'
import { ORC_ERR_POOL_PERF_PROBE } from './errors.js'
import type { PreparedEngine } from '../../sdk/index.js'

export interface PerfHints { perf_tokens_per_s: number, first_token_ms: number }

const PROBE_TOKENS = 32

async function completion (base: string, nPredict: number, timeoutMs: number): Promise<PerfHints> {
  const t0 = performance.now()
  const res = await request(`${base}/completion`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'Hello', n_predict: nPredict, temperature: 0, stream: true, cache_prompt: false }),
    signal: AbortSignal.timeout(timeoutMs),
  })
  if (res.statusCode !== 200) {
    await res.body.dump()
    throw new ORC_ERR_POOL_PERF_PROBE(res.statusCode)
  }
  let first: number | undefined
  let tokens = 0
  let engineRate: number | undefined
  let buffered = ''
  for await (const chunk of res.body) {
    first ??= performance.now()
    buffered += String(chunk)
    const events = buffered.split('\n\n')
    buffered = events.pop()!
    for (const e of events) {
      if (!e.startsWith('data: ')) continue
      if (e.includes('"stop":false')) tokens++
      // the engine's own decode rate (llama-server `timings`) is free of HTTP and scheduling noise
      else engineRate = (JSON.parse(e.slice(6)) as { timings?: { predicted_per_second?: number } }).timings?.predicted_per_second
    }
  }
  const end = performance.now()
  const firstAt = first ?? end
  const decodeS = (end - firstAt) / 1000
  const observed = decodeS > 0 && tokens > 1 ? (tokens - 1) / decodeS : 0
  return {
    first_token_ms: Math.round((firstAt - t0) * 100) / 100,
    perf_tokens_per_s: Math.round((engineRate ?? observed) * 10) / 10,
  }
}

/** Null for engines without the llama-server API, or when the probe fails (a hint, never a gate). */
export async function measurePerf (prepared: PreparedEngine, timeoutMs = 10_000): Promise<PerfHints | null> {
  if (prepared.health.kind !== 'llamacpp') return null
  const base = new URL(prepared.health.url).origin
  try {
    await completion(base, 1, timeoutMs)
    return await completion(base, PROBE_TOKENS, timeoutMs)
  } catch {
    return null
  }
}
