import t from 'tap'
import fc from 'fast-check'
import { AdmissionQueue, type Policy, type Priority } from '../queue.js'

// Generators per spec §4.1.3: ids 0..9999, priorities uniform, sequences of 1..128 ops.
const prio = fc.constantFrom<Priority>('interactive', 'batch')
const id = fc.integer({ min: 0, max: 9999 })
type Op = { op: 'enq', id: number, prio: Priority } | { op: 'deq' } | { op: 'cancel', id: number }
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('enq' as const), id, prio }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('deq' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('cancel' as const), id }) }
)
const ops = fc.array(op, { minLength: 1, maxLength: 128 })
const capacity = fc.integer({ min: 1, max: 16 })
const policy = fc.constantFrom<Policy>('reject', 'drop-lru')

/** A plain-array model of §4.1.2, against which the real queue is checked op by op. */
class Model {
  I: number[] = []
  B: number[] = []
  readonly cap: number
  readonly policy: Policy
  constructor (cap: number, policy: Policy) { this.cap = cap; this.policy = policy }
  enq (x: number, p: Priority): { ok: boolean, dropped?: number } {
    let dropped: number | undefined
    if (this.I.length + this.B.length >= this.cap) {
      if (this.policy === 'reject') return { ok: false }
      dropped = this.B.length > 0 ? this.B.shift() : this.I.shift()
    }
    (p === 'interactive' ? this.I : this.B).push(x)
    return dropped === undefined ? { ok: true } : { ok: true, dropped }
  }

  deq (): number | undefined { return this.I.length > 0 ? this.I.shift() : this.B.shift() }
  cancel (x: number): boolean {
    for (const lane of [this.I, this.B]) {
      const at = lane.indexOf(x)
      if (at >= 0) { lane.splice(at, 1); return true }
    }
    return false
  }
}

const isSubsequence = (sub: number[], of: number[]): boolean => {
  let j = 0
  for (const x of of) if (j < sub.length && sub[j] === x) j++
  return j === sub.length
}

t.test('Q1–Q9: every op sequence matches the reference model, bounds and per-class order hold', async (t) => {
  fc.assert(fc.property(capacity, policy, ops, (cap, pol, seq) => {
    const q = new AdmissionQueue<number>(cap, pol)
    const m = new Model(cap, pol)
    const arrivals: Record<Priority, number[]> = { interactive: [], batch: [] }
    for (const o of seq) {
      const beforeI = q.snapshot('interactive')
      const beforeB = q.snapshot('batch')
      const lenBefore = q.len()
      if (o.op === 'enq') {
        arrivals[o.prio].push(o.id)
        const r = q.enqueue(o.id, o.prio)
        const e = m.enq(o.id, o.prio)
        if (r.ok !== e.ok) return false
        if (!r.ok) {
          // Q4: rejected when full, state unchanged
          if (r.error !== 'QUEUE_FULL_REJECT' || lenBefore !== cap) return false
          if (JSON.stringify([beforeI, beforeB]) !== JSON.stringify([q.snapshot('interactive'), q.snapshot('batch')])) return false
        } else if (lenBefore < cap) {
          // Q7: not full never drops, len grows by exactly 1
          if (r.dropped !== undefined || q.len() !== lenBefore + 1) return false
        } else {
          // Q5/Q6: the batch head if batch is non-empty, else the interactive head
          const expected = beforeB.length > 0 ? { id: beforeB[0], prio: 'batch' } : { id: beforeI[0], prio: 'interactive' }
          if (JSON.stringify(r.dropped) !== JSON.stringify(expected) || e.dropped !== expected.id) return false
          if (q.len() !== cap) return false
          const lane = q.snapshot(o.prio)
          if (lane[lane.length - 1] !== o.id) return false
        }
      } else if (o.op === 'deq') {
        const r = q.dequeue()
        // Q9: never batch while interactive is non-empty
        if (beforeI.length > 0 && r?.prio !== 'interactive') return false
        if (r?.id !== m.deq()) return false
      } else {
        const present = beforeI.includes(o.id) || beforeB.includes(o.id)
        const r = q.cancel(o.id)
        // Q8: true iff present; absent → no change
        if (r !== present || r !== m.cancel(o.id)) return false
        if (!r && q.len() !== lenBefore) return false
        if (r && q.len() !== lenBefore - 1) return false
      }
      // Q1: bounds and len = |I| + |B|
      const I = q.snapshot('interactive')
      const B = q.snapshot('batch')
      if (q.len() < 0 || q.len() > q.capacity() || q.len() !== I.length + B.length) return false
      if (JSON.stringify(I) !== JSON.stringify(m.I) || JSON.stringify(B) !== JSON.stringify(m.B)) return false
      // Q3: each class is a subsequence of its arrival order
      if (!isSubsequence(I, arrivals.interactive) || !isSubsequence(B, arrivals.batch)) return false
      if (q.isEmpty() !== (q.len() === 0)) return false
    }
    return true
  }), { numRuns: 500 })
})

t.test('Q2: with no drops, each snapshot is its class in arrival order', async (t) => {
  fc.assert(fc.property(fc.array(fc.tuple(id, prio), { minLength: 1, maxLength: 128 }), policy, (items, pol) => {
    const q = new AdmissionQueue<number>(items.length + 1, pol)
    for (const [x, p] of items) if (!q.enqueue(x, p).ok) return false
    return JSON.stringify(q.snapshot('interactive')) === JSON.stringify(items.filter(([, p]) => p === 'interactive').map(([x]) => x)) &&
      JSON.stringify(q.snapshot('batch')) === JSON.stringify(items.filter(([, p]) => p === 'batch').map(([x]) => x))
  }))
})

t.test('Q8: cancel removes the first occurrence only and keeps the order of the rest', async (t) => {
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), prio), { minLength: 1, maxLength: 64 }),
    fc.integer({ min: 0, max: 5 }),
    (items, x) => {
      const q = new AdmissionQueue<number>(128, 'reject')
      for (const [v, p] of items) q.enqueue(v, p)
      const I = q.snapshot('interactive')
      const B = q.snapshot('batch')
      const removed = q.cancel(x)
      const expI = [...I]
      const expB = [...B]
      if (expI.includes(x)) expI.splice(expI.indexOf(x), 1)
      else if (expB.includes(x)) expB.splice(expB.indexOf(x), 1)
      return removed === (I.includes(x) || B.includes(x)) &&
        JSON.stringify(q.snapshot('interactive')) === JSON.stringify(expI) && JSON.stringify(q.snapshot('batch')) === JSON.stringify(expB)
    }
  ))
})

t.test('Q10: mutating a snapshot changes nothing; capacity never changes', async (t) => {
  fc.assert(fc.property(capacity, policy, ops, (cap, pol, seq) => {
    const q = new AdmissionQueue<number>(cap, pol)
    for (const o of seq) {
      if (o.op === 'enq') q.enqueue(o.id, o.prio)
      else if (o.op === 'deq') q.dequeue()
      else q.cancel(o.id)
      const snap = q.snapshot('interactive')
      const before = JSON.stringify(snap)
      snap.push(-1); snap.reverse()
      q.snapshot('batch').splice(0)
      if (JSON.stringify(q.snapshot('interactive')) !== before || q.capacity() !== cap) return false
    }
    return true
  }))
})

t.test('Q11: positionOf equals the number of dequeues before the item comes out', async (t) => {
  fc.assert(fc.property(fc.uniqueArray(id, { minLength: 1, maxLength: 64 }), fc.array(prio, { minLength: 64, maxLength: 64 }), (ids, prios) => {
    const q = new AdmissionQueue<number>(128, 'reject')
    ids.forEach((x, i) => q.enqueue(x, prios[i]!))
    const I = q.snapshot('interactive')
    const expected = new Map<number, number>()
    for (const x of ids) {
      const pos = q.positionOf(x)!
      const byClass = I.includes(x) ? I.indexOf(x) : I.length + q.snapshot('batch').indexOf(x)
      if (pos !== byClass) return false
      expected.set(x, pos)
    }
    for (let n = 0; !q.isEmpty(); n++) if (expected.get(q.dequeue()!.id) !== n) return false
    return q.positionOf(ids[0]!) === undefined
  }))
})

t.test('golden vectors (a)–(d) from the original', async (t) => {
  const a = new AdmissionQueue<number>(1, 'reject')
  t.same(a.enqueue(1, 'interactive'), { ok: true })
  t.same(a.enqueue(2, 'interactive'), { ok: false, error: 'QUEUE_FULL_REJECT' })
  t.equal(a.len(), 1, '(a)')

  const b = new AdmissionQueue<number>(2, 'drop-lru')
  b.enqueue(1, 'batch'); b.enqueue(2, 'interactive')
  t.same(b.enqueue(3, 'interactive'), { ok: true, dropped: { id: 1, prio: 'batch' } })
  t.same([b.snapshot('batch'), b.snapshot('interactive')], [[], [2, 3]], '(b)')

  const c = new AdmissionQueue<number>(3, 'reject')
  c.enqueue(10, 'interactive'); c.enqueue(11, 'interactive')
  t.same(c.snapshot('interactive'), [10, 11], '(c)')

  for (const p of ['interactive', 'batch'] as const) {
    const mk = (pol: Policy): AdmissionQueue<string> => {
      const q = new AdmissionQueue<string>(5, pol)
      for (const x of ['b1', 'b2']) q.enqueue(x, 'batch')
      for (const x of ['i1', 'i2', 'i3']) q.enqueue(x, 'interactive')
      return q
    }
    const d = mk('drop-lru')
    t.same(d.enqueue('e', p), { ok: true, dropped: { id: 'b1', prio: 'batch' } })
    t.same(d.snapshot('batch'), p === 'batch' ? ['b2', 'e'] : ['b2'], `(d) drop-lru ${p}`)
    t.same(d.snapshot('interactive'), p === 'interactive' ? ['i1', 'i2', 'i3', 'e'] : ['i1', 'i2', 'i3'])
    const r = mk('reject')
    t.same(r.enqueue('e', p), { ok: false, error: 'QUEUE_FULL_REJECT' })
    t.same([r.snapshot('batch'), r.snapshot('interactive')], [['b1', 'b2'], ['i1', 'i2', 'i3']], `(d) reject ${p} unchanged`)
  }
})

t.test('capacity below 1 and unknown policies are refused (decision 5, §6 D3)', async (t) => {
  t.throws(() => new AdmissionQueue(0, 'drop-lru'), /capacity must be an integer >= 1/)
  t.throws(() => new AdmissionQueue(1.5, 'reject'), /capacity/)
  t.throws(() => new AdmissionQueue(1, 'fifo' as Policy), /policy must be/)
  const q = new AdmissionQueue<number>(3, 'drop-lru')
  t.equal(q.policy(), 'drop-lru')
  q.enqueue(1, 'batch'); q.enqueue(1, 'batch')
  t.ok(q.has(1))
  t.equal(q.lenOf('batch'), 2, 'duplicate ids are allowed; admission enforces uniqueness')
  t.ok(q.cancel(1)); t.ok(q.has(1)); t.ok(q.cancel(1)); t.notOk(q.has(1))
  t.equal(q.dequeue(), undefined)
})
