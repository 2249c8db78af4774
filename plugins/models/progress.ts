/** One file's download progress. */
export interface Progress { id: string, file: string, bytes: number, total: number | null }
export type ProgressListener = (p: Progress) => void

export function formatBytes (n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`
}

/**
 * Sums the files of one pull and calls `report` at each quarter (25, 50, 75 %) of the
 * known total, so narration says how far a download is without a line per chunk.
 */
export function quarterReporter (report: (pct: number, bytes: number, total: number) => void): ProgressListener {
  const files = new Map<string, { bytes: number, total: number | null }>()
  let last = 0
  return (p) => {
    files.set(p.file, { bytes: p.bytes, total: p.total })
    let bytes = 0
    let total = 0
    for (const f of files.values()) { bytes += f.bytes; if (f.total === null) return; total += f.total }
    if (total === 0) return
    const quarter = Math.floor((bytes / total) * 4) * 25
    if (quarter > last && quarter < 100) { last = quarter; report(quarter, bytes, total) }
  }
}

export interface Bar { update: ProgressListener, done (): void }

/** A one-line progress bar for a terminal (redrawn at most 10 times a second). */
export function progressBar (out: { write (s: string): unknown, columns?: number }, label: string, now: () => number = Date.now): Bar {
  const files = new Map<string, { bytes: number, total: number | null }>()
  const started = now()
  let drawn = Number.NEGATIVE_INFINITY
  let last = ''
  const draw = (force: boolean): void => {
    if (!force && now() - drawn < 100) return
    drawn = now()
    let bytes = 0
    let total: number | null = 0
    for (const f of files.values()) { bytes += f.bytes; total = total === null || f.total === null ? null : total + f.total }
    const rate = bytes / Math.max(0.001, (now() - started) / 1000)
    const width = 24
    const frac = total ? Math.min(1, bytes / total) : 0
    const bar = total ? `[${'#'.repeat(Math.round(frac * width)).padEnd(width, '.')}] ${Math.floor(frac * 100)}%` : '[downloading]'
    last = `\r${label} ${bar} ${formatBytes(bytes)}${total ? `/${formatBytes(total)}` : ''} ${formatBytes(rate)}/s`
    out.write(last.slice(0, (out.columns ?? 120) + 1))
  }
  return {
    update (p) { files.set(p.file, { bytes: p.bytes, total: p.total }); draw(false) },
    done () { if (files.size > 0) { draw(true); out.write('\n') } },
  }
}
