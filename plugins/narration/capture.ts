import type { DestinationStream } from 'pino'

export interface LogRecord { [field: string]: unknown, level: number, human?: string, actor?: string, action?: string }

export interface Capture extends DestinationStream {
  records (): LogRecord[]
  /** The `human` strings of narration records, in order. */
  humans (): string[]
  find (match: Record<string, unknown>): LogRecord[]
  /** Every line as written, to scan for leaked secrets. */
  text (): string
  clear (): void
}

/** A pino destination that keeps records in memory, for tests to assert narration (ORCH-3306). */
export function createCapture (): Capture {
  let lines: string[] = []
  let parsed: LogRecord[] = []
  return {
    write (chunk: string) {
      for (const line of chunk.split('\n')) {
        if (line.length === 0) continue
        lines.push(line)
        parsed.push(JSON.parse(line) as LogRecord)
      }
    },
    records: () => [...parsed],
    humans: () => parsed.filter((r) => typeof r.human === 'string').map((r) => r.human as string),
    find: (match) => parsed.filter((r) => Object.entries(match).every(([k, v]) => r[k] === v)),
    text: () => lines.join('\n'),
    clear () { lines = []; parsed = [] },
  }
}
