/**
 * Progress of a provisioning step for a person: on a terminal one bar redrawn in place
 * (build steps from ninja's own `[n/m]`, download bytes), elsewhere a plain line when a step
 * starts and at each tenth of a counted step, so a CI log stays short.
 */
import type { ProvisionProgress } from '../sdk/index.js'
import { formatBytes } from '../plugins/models/progress.js'

export interface ProgressOut { write (s: string): unknown, columns?: number, isTTY?: boolean }

export interface ProgressPrinter { update (p: ProvisionProgress): void, done (): void }

const amount = (n: number, unit: ProvisionProgress['unit']): string => unit === 'bytes' ? formatBytes(n) : String(n)

export function progressPrinter (out: ProgressOut, label: string, now: () => number = Date.now): ProgressPrinter {
  let step = ''
  let tenth = -1
  let drawn = Number.NEGATIVE_INFINITY
  let bar = false
  const line = (p: ProvisionProgress): string => p.total
    ? `${label} ${p.step} ${Math.floor((p.done! / p.total) * 100)}% ` +
      `(${amount(p.done!, p.unit)}/${amount(p.total, p.unit)}${p.unit === 'steps' ? ' steps' : ''})`
    : `${label} ${p.step}`
  return {
    update (p) {
      const fresh = p.step !== step
      if (fresh) { step = p.step; tenth = -1 }
      if (out.isTTY) {
        if (!fresh && now() - drawn < 100) return
        drawn = now()
        const width = 24
        const frac = p.total ? Math.min(1, (p.done ?? 0) / p.total) : 0
        const gauge = p.total ? `[${'#'.repeat(Math.round(frac * width)).padEnd(width, '.')}] ` : ''
        out.write(`\r\x1b[K${gauge}${line(p)}`.slice(0, (out.columns ?? 120) + 8))
        bar = true
        return
      }
      const t = p.total ? Math.floor(((p.done ?? 0) / p.total) * 10) : 0
      if (fresh || t > tenth) { tenth = t; out.write(`${line(p)}\n`) }
    },
    done () { if (bar) { out.write('\n'); bar = false } },
  }
}
