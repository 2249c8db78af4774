import type { LogRecord } from './capture.js'

/** A flow that must narrate: some record from `actor` with one of `actions` and a `human` text. */
export interface NarrationFlow { name: string, actor: string, actions: string[] }

/** The key flows of ORCH-3307 and the pool lifecycle of ORCH-3490. */
export const REQUIRED_FLOWS: NarrationFlow[] = [
  { name: 'server start', actor: 'orchestratord', actions: ['start'] },
  { name: 'server stop', actor: 'orchestratord', actions: ['stop'] },
  { name: 'admission', actor: 'orchestratord', actions: ['admission', 'reject'] },
  { name: 'dispatch', actor: 'adapter-host', actions: ['submit', 'started'] },
  { name: 'cancel', actor: 'orchestratord', actions: ['cancel'] },
  { name: 'stream end', actor: 'adapter-host', actions: ['end', 'error'] },
  { name: 'pool preload', actor: 'pool-managerd', actions: ['preload'] },
  { name: 'pool readiness', actor: 'pool-managerd', actions: ['ready', 'unready'] },
  { name: 'pool drain', actor: 'pool-managerd', actions: ['drain'] },
  { name: 'pool reload', actor: 'pool-managerd', actions: ['reload'] },
  { name: 'engine restart', actor: 'pool-managerd', actions: ['crash', 'restart'] },
]

export interface NarrationCoverage {
  total: number
  covered: string[]
  missing: string[]
  /** covered / total, 0..1 */
  ratio: number
}

export function narrationCoverage (records: LogRecord[], flows: NarrationFlow[] = REQUIRED_FLOWS): NarrationCoverage {
  const covered: string[] = []
  const missing: string[] = []
  for (const flow of flows) {
    const hit = records.some((r) => r.actor === flow.actor && flow.actions.includes(String(r.action)) &&
      typeof r.human === 'string' && r.human.length > 0)
    ;(hit ? covered : missing).push(flow.name)
  }
  return { total: flows.length, covered, missing, ratio: flows.length === 0 ? 1 : covered.length / flows.length }
}
