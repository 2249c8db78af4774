/**
 * Which llama-server slot last served each session, and which session each slot last served:
 * enough to free a session's KV (`POST /slots/{id}?action=erase`) without erasing a slot that
 * another session has used since. Bounded: the least recently seen sessions are forgotten.
 */
export class SessionSlots {
  readonly #bySession = new Map<string, number>()
  readonly #bySlot = new Map<number, string>()
  readonly #max: number

  constructor (max = 10_000) { this.#max = max }

  remember (session: string, slot: number): void {
    this.#bySession.delete(session)
    this.#bySession.set(session, slot)
    this.#bySlot.set(slot, session)
    if (this.#bySession.size > this.#max) {
      const [oldest, oldSlot] = this.#bySession.entries().next().value as [string, number]
      this.#bySession.delete(oldest)
      if (this.#bySlot.get(oldSlot) === oldest) this.#bySlot.delete(oldSlot)
    }
  }

  /** The slot still holding the session's KV, forgotten once returned; undefined if none does. */
  take (session: string): number | undefined {
    const slot = this.#bySession.get(session)
    if (slot === undefined) return undefined
    this.#bySession.delete(session)
    if (this.#bySlot.get(slot) !== session) return undefined
    this.#bySlot.delete(slot)
    return slot
  }

  get size (): number { return this.#bySession.size }
}
