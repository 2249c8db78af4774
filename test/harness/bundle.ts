/**
 * Proof bundles (spec adapters-observability-testing.md §6.7): every harness writes its evidence
 * under one run folder, `$LLORCH_PROOF_DIR` (default `.proof_bundle/<run id>/`), one subfolder
 * per suite, and merges its summary into the run's `summary.json`. Everything written passes
 * through the secret scrubber first (ORCH-3302): a bundle never holds a secret.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { arch, platform, release } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { writeFileAtomic } from '../../lib/atomic.js'
import { redactString, redactValue } from '../../sdk/redact.js'
import { narrationCoverage, type LogRecord } from '../../plugins/narration/index.js'

export const SUITES = ['determinism', 'chaos', 'bdd', 'metrics', 'narration', 'e2e'] as const
export type Suite = typeof SUITES[number]

const ROOT = resolve(import.meta.dirname, '..', '..')

function git (...args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return null
  }
}

/** `<git short sha>` (+`-dirty`), or `LLORCH_PROOF_RUN_ID` (`npm run proof` sets `<UTC timestamp>-<sha>`). */
export function runId (env: NodeJS.ProcessEnv = process.env): string {
  if (env.LLORCH_PROOF_RUN_ID) return env.LLORCH_PROOF_RUN_ID
  const sha = git('rev-parse', '--short', 'HEAD') ?? 'nogit'
  return git('status', '--porcelain', '--untracked-files=no') ? `${sha}-dirty` : sha
}

/** The run folder: `$LLORCH_PROOF_DIR`, else `.proof_bundle/<run id>/` in the repository. */
export function proofRoot (env: NodeJS.ProcessEnv = process.env): string {
  return env.LLORCH_PROOF_DIR ? resolve(env.LLORCH_PROOF_DIR) : join(ROOT, '.proof_bundle', runId(env))
}

export interface SuiteBundle {
  readonly suite: Suite
  readonly dir: string
  /** Writes `rel` (a string as text, anything else as JSON), scrubbed of secrets. */
  write (rel: string, data: unknown): Promise<void>
  /** Writes one JSON object per line. */
  writeLines (rel: string, rows: readonly unknown[]): Promise<void>
  /** The narration the suite's app wrote (`narration.ndjson`), for the run's coverage (ORCH-3307). */
  narration (records: readonly LogRecord[]): Promise<void>
  /** summary.json, provenance.json and manifest.sha256 of the suite; merges the run's summary.json. */
  finish (summary: Record<string, unknown>, o?: { env?: Record<string, string | undefined> }): Promise<void>
}

const serialise = (data: unknown): string =>
  typeof data === 'string' ? redactString(data) : `${JSON.stringify(redactValue(data), null, 2)}\n`

/** Opens (and empties) the suite's folder of the current run. */
export async function openSuite (suite: Suite, env: NodeJS.ProcessEnv = process.env): Promise<SuiteBundle> {
  const root = proofRoot(env)
  const dir = join(root, suite)
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  const started = new Date().toISOString()
  const write = async (rel: string, data: unknown): Promise<void> => {
    const file = join(dir, rel)
    await mkdir(dirname(file), { recursive: true })
    await writeFileAtomic(file, serialise(data))
  }
  const writeLines = (rel: string, rows: readonly unknown[]): Promise<void> =>
    write(rel, rows.map((r) => JSON.stringify(redactValue(r))).join('\n') + (rows.length ? '\n' : ''))
  return {
    suite,
    dir,
    write,
    writeLines,
    narration: (records) => writeLines(NARRATION_FILE, records),
    async finish (summary, o = {}) {
      await write('summary.json', summary)
      await write('provenance.json', {
        suite,
        git_sha: git('rev-parse', 'HEAD'),
        node: process.version,
        os: `${platform()} ${release()} ${arch()}`,
        env: o.env ?? {},
        started,
        finished: new Date().toISOString(),
      })
      await write('manifest.sha256', await checksums(dir))
      await mergeSummary(root)
    },
  }
}

async function filesUnder (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...await filesUnder(p))
    else if (e.isFile() && !e.name.startsWith('.')) out.push(p)
  }
  return out.sort()
}

/** `sha256  path` lines, like sha256sum, for every file of the suite but the manifest itself. */
async function checksums (dir: string): Promise<string> {
  const lines: string[] = []
  for (const f of await filesUnder(dir)) {
    const rel = relative(dir, f)
    if (rel === 'manifest.sha256') continue
    lines.push(`${createHash('sha256').update(await readFile(f)).digest('hex')}  ${rel}`)
  }
  return lines.join('\n') + '\n'
}

const NARRATION_FILE = 'narration.ndjson'

/**
 * Narration coverage over every suite of the run (ORCH-3307, informational): the share of the
 * required flows some suite's app narrated, written as the `narration` suite.
 */
async function mergeNarration (root: string): Promise<Record<string, unknown> | null> {
  const records: LogRecord[] = []
  const from: string[] = []
  for (const s of SUITES) {
    const text = await readFile(join(root, s, NARRATION_FILE), 'utf8').catch(() => null)
    if (text === null) continue
    from.push(s)
    for (const line of text.split('\n')) if (line) records.push(JSON.parse(line) as LogRecord)
  }
  if (from.length === 0) return null
  const c = narrationCoverage(records)
  const summary = { coverage: Number(c.ratio.toFixed(3)), covered: c.covered, missing: c.missing, records: records.length, suites: from }
  await mkdir(join(root, 'narration'), { recursive: true })
  await writeFileAtomic(join(root, 'narration', 'narration_coverage.json'), `${JSON.stringify(summary, null, 2)}\n`)
  return summary
}

/** The run's `summary.json`: each suite's summary under its name; a suite not run yet is absent. */
export async function mergeSummary (root: string = proofRoot()): Promise<Record<string, unknown>> {
  const merged: Record<string, unknown> = { run_id: root.split('/').pop() }
  for (const s of SUITES) {
    if (s === 'narration') continue
    const text = await readFile(join(root, s, 'summary.json'), 'utf8').catch(() => null)
    if (text !== null) merged[s] = JSON.parse(text)
  }
  const narration = await mergeNarration(root)
  if (narration) merged.narration = narration
  await mkdir(root, { recursive: true })
  await writeFileAtomic(join(root, 'summary.json'), `${JSON.stringify(merged, null, 2)}\n`)
  return merged
}
