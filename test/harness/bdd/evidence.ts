/**
 * What the scenarios leave for the proof bundle (spec adapters-observability-testing.md §6.7):
 * SSE transcripts, narration and one /metrics scrape, collected across a run. A module of its
 * own, registering no support code, so the runner can import it before cucumber loads the steps.
 */
import type { LogRecord } from '../../../plugins/narration/index.js'

export interface Evidence {
  /** scenario name → the raw SSE bodies it read, in order */
  sse: Map<string, string[]>
  /** every narration record of every scenario's app, tagged with the scenario */
  narration: LogRecord[]
  /** the first /metrics body a scenario scraped after traffic */
  metricsSample: string | null
}

export const evidence: Evidence = { sse: new Map(), narration: [], metricsSample: null }

export function resetEvidence (): void {
  evidence.sse.clear()
  evidence.narration.length = 0
  evidence.metricsSample = null
}
