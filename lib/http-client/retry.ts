/**
 * Backoff and `Retry-After` (spec adapters §1.5, ORCH-3611, decision 10): full jitter,
 * `sleep = random(0, min(cap, base · 2^attempt))`, 3 attempts in all by default.
 */

export interface BackoffPolicy {
  /** Tries in all, the first included. */
  attempts: number
  baseMs: number
  capMs: number
}

export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = { attempts: 3, baseMs: 100, capMs: 2000 }

/** The pause before retry number `attempt` (1 = the first retry). */
export function retryDelayMs (attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(policy.capMs, policy.baseMs * 2 ** attempt))
}

type Headers = Record<string, string | string[] | undefined>

const first = (v: string | string[] | undefined): string | undefined => Array.isArray(v) ? v[0] : v

/** `retry-after-ms` (OpenAI), else `Retry-After` in seconds or as an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter (headers: Headers, nowMs: number = Date.now()): number | undefined {
  const ms = first(headers['retry-after-ms'])
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.round(Number(ms))
  const ra = first(headers['retry-after'])?.trim()
  if (ra === undefined || ra === '') return undefined
  if (/^\d+(\.\d+)?$/.test(ra)) return Math.round(Number(ra) * 1000)
  const at = Date.parse(ra)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(signal.reason); return }
    const onAbort = (): void => { clearTimeout(timer); reject(signal!.reason) }
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
