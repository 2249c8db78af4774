/**
 * `promtool check metrics` over a scrape, as a second opinion on the exposition (ORCH-3282).
 * promtool exits non-zero for naming-convention findings too, and the contract fixes names
 * such as `latency_first_token_ms` that promtool flags, so its output is classified: parse
 * errors fail, promlint findings are warnings. Texts as promtool 2.42 (Debian) prints them:
 *   `error while linting: text format parsing error in line 1: unexpected end of label value "b"` (rc 1)
 *   `latency_decode_ms metric names should not contain abbreviated units` (rc 3)
 *   `foo counter metrics should have "_total" suffix`, `foo no help text` (rc 3)
 */
import { spawnSync } from 'node:child_process'

export interface PromtoolRun {
  /** false: no promtool binary on this machine */
  available: boolean
  rc: number | null
  /** stdout and stderr together (promtool writes its findings to stderr) */
  output: string
}

export interface PromtoolReport {
  /** null: promtool is not installed, nothing was checked */
  promtool_ok: boolean | null
  rc: number | null
  errors: string[]
  warnings: Array<{ metric: string, text: string }>
  message: string
}

/** promlint's exit status when it found only lint problems (promtool cmd/promtool: lintErrExitCode). */
const LINT_EXIT = 3
/** A promlint finding: `<metric name> <problem text>`. */
const FINDING = /^([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/

export function runPromtool (scrape: string, bin = process.env.PROMTOOL ?? 'promtool'): PromtoolRun {
  const r = spawnSync(bin, ['check', 'metrics'], { input: scrape, encoding: 'utf8', timeout: 20_000 })
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return { available: false, rc: null, output: '' }
  return { available: true, rc: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` }
}

/** Pure: errors are anything that is not a promlint finding, or an exit status other than 0 and 3. */
export function classifyPromtool (run: PromtoolRun): PromtoolReport {
  if (!run.available) {
    const message = 'promtool is not installed (apt-get install prometheus, or set $PROMTOOL); the scrape was not checked by it'
    return { promtool_ok: null, rc: null, errors: [], warnings: [], message }
  }
  const errors: string[] = []
  const warnings: PromtoolReport['warnings'] = []
  for (const line of run.output.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const m = FINDING.exec(line)
    // "error while linting: …" has a colon after its first word, so it is never taken for a finding
    if (m && !line.startsWith('error')) warnings.push({ metric: m[1]!, text: m[2]! })
    else errors.push(line)
  }
  if (run.rc !== 0 && run.rc !== LINT_EXIT) errors.push(`promtool exited ${run.rc}`)
  if (run.rc === LINT_EXIT && warnings.length === 0) errors.push('promtool exited 3 (lint problems) but printed none')
  const ok = errors.length === 0
  return {
    promtool_ok: ok,
    rc: run.rc,
    errors,
    warnings,
    message: ok ? `promtool: exposition OK, ${warnings.length} naming warning(s)` : `promtool: ${errors.length} error(s): ${errors[0]}`,
  }
}
