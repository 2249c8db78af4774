/**
 * The admission queue (spec api-and-core.md §4.1, CORE:ORCH-3400..3402, OC-CORE-1001..1005):
 * bounded, two priority classes sharing one capacity, FIFO within a class, policies
 * `reject` and `drop-lru` (decision 5). Pure and synchronous: no I/O, no timers, no Fastify.
 *
 * Storage: one doubly linked list per class plus, per class, `id → nodes` in arrival order,
 * so enqueue, dequeue and cancel are O(1). Duplicate ids are allowed (admission enforces
 * uniqueness, §6 D11); `cancel` removes the first occurrence, interactive before batch.
 */
export type Priority = 'interactive' | 'batch'
export type Policy = 'reject' | 'drop-lru'

export type EnqueueResult<Id> =
  | { ok: true, dropped?: { id: Id, prio: Priority } }
  | { ok: false, error: 'QUEUE_FULL_REJECT' }

interface Node<Id> { id: Id, prio: Priority, prev: Node<Id> | null, next: Node<Id> | null }

class Lane<Id> {
  head: Node<Id> | null = null
  tail: Node<Id> | null = null
  size = 0
  readonly index = new Map<Id, Array<Node<Id>>>()

  push (node: Node<Id>): void {
    node.prev = this.tail
    node.next = null
    if (this.tail) this.tail.next = node
    else this.head = node
    this.tail = node
    this.size++
    const list = this.index.get(node.id)
    if (list) list.push(node)
    else this.index.set(node.id, [node])
  }

  unshift (node: Node<Id>): void {
    node.prev = null
    node.next = this.head
    if (this.head) this.head.prev = node
    else this.tail = node
    this.head = node
    this.size++
    const list = this.index.get(node.id)
    if (list) list.unshift(node)
    else this.index.set(node.id, [node])
  }

  unlink (node: Node<Id>): void {
    if (node.prev) node.prev.next = node.next
    else this.head = node.next
    if (node.next) node.next.prev = node.prev
    else this.tail = node.prev
    node.prev = node.next = null
    this.size--
    const list = this.index.get(node.id)!
    // nodes of one id sit in the list in arrival order; the one unlinked is almost always the first
    const at = list.indexOf(node)
    list.splice(at, 1)
    if (list.length === 0) this.index.delete(node.id)
  }

  shift (): Node<Id> | undefined {
    const node = this.head
    if (node) this.unlink(node)
    return node ?? undefined
  }

  ids (): Id[] {
    const out: Id[] = []
    for (let n = this.head; n; n = n.next) out.push(n.id)
    return out
  }

  indexOf (id: Id): number | undefined {
    const first = this.index.get(id)?.[0]
    if (!first) return undefined
    let i = 0
    for (let n = this.head; n && n !== first; n = n.next) i++
    return i
  }
}

export class AdmissionQueue<Id> {
  readonly #capacity: number
  readonly #policy: Policy
  readonly #interactive = new Lane<Id>()
  readonly #batch = new Lane<Id>()

  constructor (capacity: number, policy: Policy) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`llama-orch: queue capacity must be an integer >= 1, got ${capacity}`)
    }
    if (policy !== 'reject' && policy !== 'drop-lru') {
      throw new RangeError(`llama-orch: queue policy must be 'reject' or 'drop-lru', got ${String(policy)}`)
    }
    this.#capacity = capacity
    this.#policy = policy
  }

  #lane (prio: Priority): Lane<Id> { return prio === 'interactive' ? this.#interactive : this.#batch }

  enqueue (id: Id, prio: Priority): EnqueueResult<Id> {
    let dropped: { id: Id, prio: Priority } | undefined
    if (this.len() >= this.#capacity) {
      if (this.#policy === 'reject') return { ok: false, error: 'QUEUE_FULL_REJECT' }
      // drop-lru: the oldest batch item, else the oldest interactive item (§4.1.2)
      const victim = this.#batch.shift() ?? this.#interactive.shift()!
      dropped = { id: victim.id, prio: victim.prio }
    }
    this.#lane(prio).push({ id, prio, prev: null, next: null })
    return dropped ? { ok: true, dropped } : { ok: true }
  }

  /**
   * Puts a task that was dispatched but never started back at the head of its class: it was
   * admitted and first in line, so it neither waits behind later tasks nor counts against the
   * capacity again (the queue may hold one more than capacity for as long as it waits).
   */
  requeue (id: Id, prio: Priority): void {
    this.#lane(prio).unshift({ id, prio, prev: null, next: null })
  }

  /** Strict priority (OC-CORE-1004): the interactive head if any, else the batch head. */
  dequeue (): { id: Id, prio: Priority } | undefined {
    const node = this.#interactive.shift() ?? this.#batch.shift()
    return node ? { id: node.id, prio: node.prio } : undefined
  }

  /** Removes the first occurrence of `id`, searching interactive before batch. */
  cancel (id: Id): boolean {
    for (const lane of [this.#interactive, this.#batch]) {
      const node = lane.index.get(id)?.[0]
      if (node) { lane.unlink(node); return true }
    }
    return false
  }

  has (id: Id): boolean { return this.#interactive.index.has(id) || this.#batch.index.has(id) }
  len (): number { return this.#interactive.size + this.#batch.size }
  lenOf (prio: Priority): number { return this.#lane(prio).size }
  capacity (): number { return this.#capacity }
  policy (): Policy { return this.#policy }
  isEmpty (): boolean { return this.len() === 0 }

  /** A fresh copy, in dispatch order within the class. */
  snapshot (prio: Priority): Id[] { return this.#lane(prio).ids() }

  /** 0-based dispatch position (Q11): index in I, or len(I) + index in B. */
  positionOf (id: Id): number | undefined {
    const i = this.#interactive.indexOf(id)
    if (i !== undefined) return i
    const b = this.#batch.indexOf(id)
    return b === undefined ? undefined : this.#interactive.size + b
  }
}
