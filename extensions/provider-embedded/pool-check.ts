/**
 * What the embedded provider cannot honour in a pool, found before anything starts (issue 10
 * #14). The worker takes only a few llama-server flags (worker.ts); every other flag would be
 * dropped without a word, so each one is refused here, naming the flag and what to use instead.
 */
import type { PoolConfig } from '../../sdk/pool-config.js'

interface PoolIssue { path: string, message: string }

/** The flags prepare() reads, by spelling, with the pool field that sets the same thing. */
const VALUED: ReadonlyArray<{ names: readonly string[], field?: 'ctx' | 'slots_total' }> = [
  { names: ['--threads', '-t'] },
  { names: ['--parallel', '-np'], field: 'slots_total' },
  { names: ['--ctx-size', '-c'], field: 'ctx' },
]
/** Always on in the worker, so asking for it is honoured. */
const ALWAYS_ON = new Set(['--metrics'])
const ACCEPTED = '--threads/-t N, --parallel/-np N, --ctx-size/-c N and --metrics'

export function embeddedPoolIssues (pool: PoolConfig): PoolIssue[] {
  const flags = pool.provisioning.flags ?? []
  const issues: PoolIssue[] = []
  const seen = new Map<string, number>()
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i]!
    const at = `/provisioning/flags/${i}`
    if (ALWAYS_ON.has(flag)) continue
    const valued = VALUED.find((v) => v.names.includes(flag))
    if (valued === undefined) {
      issues.push({ path: at, message: unknownFlag(flag) })
      // its value, if it has one, goes with it rather than being reported as a flag of its own
      if (flags[i + 1] !== undefined && !flags[i + 1]!.startsWith('-')) i++
      continue
    }
    const value = flags[i + 1]
    i++ // the value is consumed with its flag
    const n = Number(value)
    if (value === undefined || !Number.isInteger(n) || n <= 0) {
      issues.push({ path: at, message: `${flag} needs a positive integer as the next entry, got ${value === undefined ? 'nothing' : `"${value}"`}` })
      continue
    }
    const key = valued.names[0]!
    const first = seen.get(key)
    if (first !== undefined) {
      issues.push({ path: at, message: `sets ${key} a second time (first at /provisioning/flags/${first}); only the first would be used, remove one` })
      continue
    }
    seen.set(key, i - 1)
    const field = valued.field
    if (field !== undefined && pool[field] !== undefined && pool[field] !== null && pool[field] !== n) {
      issues.push({ path: at, message: `${flag} ${n} contradicts the pool's ${field} ${pool[field]}, which wins; remove the flag or make them equal` })
    }
  }
  return issues
}

function unknownFlag (flag: string): string {
  const eq = flag.indexOf('=')
  if (eq > 0 && VALUED.some((v) => v.names.includes(flag.slice(0, eq)))) {
    return `write "${flag}" as two entries ("${flag.slice(0, eq)}", "${flag.slice(eq + 1)}"); the embedded provider reads a flag's value from the next entry`
  }
  return `"${flag}" is not passed on by the embedded provider (it honours only ${ACCEPTED}); remove it, ` +
    'or run llama-server yourself and attach it with provisioning.mode: external'
}
