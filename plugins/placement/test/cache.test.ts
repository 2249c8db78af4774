import t from 'tap'
import fc from 'fast-check'
import { cacheKey, createDecisionCache } from '../cache.js'
import type { JobSpec, PlacementDecision } from '../placement.js'

const job: JobSpec = { engine: 'llamacpp', modelId: 'm0', requiredCtx: 2048, priority: 'interactive' }
const assigned = (poolId: string): PlacementDecision => ({ kind: 'assigned', poolId, affinity: false })

t.test('the cache key ignores key order and undefined fields', async (t) => {
  t.equal(cacheKey({ ...job, priority: 'interactive' }, 'p', 1, 'vram-least-loaded'),
    cacheKey({ priority: 'interactive', requiredCtx: 2048, modelId: 'm0', engine: 'llamacpp' }, 'p', 1, 'vram-least-loaded'))
  t.not(cacheKey(job, 'p', 1, 'vram-least-loaded'), cacheKey(job, 'q', 1, 'vram-least-loaded'), 'the affine pool is part of the key')
  t.not(cacheKey(job, 'p', 1, 'vram-least-loaded'), cacheKey(job, 'p', 1, 'predicted-end'), 'the policy name is part of the key')
})

t.test('property: the cache never returns a decision computed under another snapshot_version (§4.3.5)', async (t) => {
  const op = fc.oneof(
    fc.record({ k: fc.constant('set' as const), key: fc.constantFrom('a', 'b', 'c'), v: fc.integer({ min: 1, max: 4 }), pool: fc.constantFrom('p0', 'p1') }),
    fc.record({ k: fc.constant('get' as const), key: fc.constantFrom('a', 'b', 'c'), v: fc.integer({ min: 1, max: 4 }), dt: fc.integer({ min: 0, max: 300 }) })
  )
  fc.assert(fc.property(fc.array(op, { maxLength: 64 }), (ops) => {
    const cache = createDecisionCache(500, 2)
    const written = new Map<string, { v: number, pool: string, at: number }>()
    let now = 0
    let last = 0
    for (const o of ops) {
      if (o.v < last) continue // snapshot_version never decreases
      last = o.v
      if (o.k === 'set') {
        cache.set(o.key, assigned(o.pool), o.v, now)
        written.set(o.key, { v: o.v, pool: o.pool, at: now })
      } else {
        now += o.dt
        const got = cache.get(o.key, o.v, now)
        const w = written.get(o.key)
        if (got !== undefined && (w === undefined || w.v !== o.v || now - w.at >= 500 || (got as { poolId: string }).poolId !== w.pool)) return false
      }
      if (cache.size > 2) return false
    }
    return true
  }), { numRuns: 500 })
})

t.test('TTL, LRU bound, bump invalidation, delete and clear', async (t) => {
  const cache = createDecisionCache(500, 2)
  cache.set('a', assigned('p0'), 1, 0)
  t.same(cache.get('a', 1, 499), assigned('p0'), 'hit inside the TTL')
  t.equal(cache.get('a', 1, 500), undefined, 'recomputes after the TTL')
  cache.set('a', assigned('p0'), 1, 0)
  cache.set('b', assigned('p1'), 1, 0)
  cache.get('a', 1, 1) // a is now the most recently used
  cache.set('c', assigned('p2'), 1, 0)
  t.equal(cache.size, 2)
  t.equal(cache.get('b', 1, 1), undefined, 'the least recently used entry went first')
  t.ok(cache.get('a', 1, 1))
  t.equal(cache.get('a', 2, 1), undefined, 'a bump invalidates every entry')
  t.equal(cache.size, 0)
  cache.set('a', assigned('p0'), 2, 0)
  cache.set('x', assigned('p0'), 3, 0)
  t.equal(cache.size, 1, 'a set under a newer version drops the older entries too')
  cache.delete('x')
  t.equal(cache.size, 0)
  cache.set('y', assigned('p0'), 3, 0)
  cache.clear()
  t.equal(cache.get('y', 3, 0), undefined)
})
