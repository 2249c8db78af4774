import { createHash, timingSafeEqual } from 'node:crypto'

/** Paths that stay public when the gate is on (spec §1.3): scrapes and probes. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/metrics', '/healthz', '/readyz'])

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest()

/**
 * A key lookup in constant time: the candidate is hashed and compared with every configured
 * key's hash with `timingSafeEqual`, never stopping early, so neither the length nor the
 * position of a match leaks through timing. Answers the index of the matching key, or -1.
 */
export function createKeyMatch (keys: readonly string[]): (candidate: string) => number {
  const digests = keys.map(digest)
  return (candidate) => {
    const d = digest(candidate)
    let found = -1
    digests.forEach((k, i) => { if (timingSafeEqual(d, k)) found = i })
    return found
  }
}

/** Whether the candidate is one of the keys, in constant time (see `createKeyMatch`). */
export function createKeyCheck (keys: readonly string[]): (candidate: string) => boolean {
  const match = createKeyMatch(keys)
  return (candidate) => match(candidate) !== -1
}

/** The path of a request URL, without query string. */
export function pathOf (url: string): string {
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}
