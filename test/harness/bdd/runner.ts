/**
 * Runs the BDD features with @cucumber/cucumber (spec adapters-observability-testing.md §6.2,
 * ORCH-3279) and reduces cucumber's message envelopes to what the harness judges: per-step
 * results, the step registry with its use counts, and the problems that fail a run.
 *
 * Two passes over one support-code library (loaded once: ES modules are cached per process, so
 * a second load would register nothing):
 * 1. the static check, a dry run: every step of every feature must match exactly one step
 *    pattern; 0 → `undefined step '<text>' in <file>`, > 1 → `ambiguous step '<text>' in <file> (<n> matches)`;
 * 2. the run itself, strict: any step or hook not `PASSED` (failed, undefined, ambiguous,
 *    pending, skipped, unknown) is a problem.
 *
 * The step files are TypeScript: cucumber `import()`s them in this process, where tap's
 * TypeScript loader (ts-node ESM hooks, registered process-wide) is already active.
 */
import { isAbsolute, join, relative, resolve } from 'node:path'
import { statSync } from 'node:fs'
import { Writable } from 'node:stream'
import { loadConfiguration, loadSupport, runCucumber, type ISupportCodeLibrary } from '@cucumber/cucumber/api'

/** cucumber's message types, as its API hands them over (no direct dependency on @cucumber/messages) */
type Envelope = Parameters<NonNullable<Parameters<typeof runCucumber>[2]>>[0]
type Pickle = NonNullable<Envelope['pickle']>
type TestCase = NonNullable<Envelope['testCase']>

export const HARNESS_ROOT = import.meta.dirname
export const STEP_FILES = ['world.ts', 'steps/*.ts']

export interface StepResult {
  feature: string
  scenario: string
  /** `Given …` as written (keyword + text), or `Before hook` / `After hook` */
  step: string
  line: number | null
  status: string
  duration_ms: number
  message?: string
}

export interface RegistryEntry { pattern: string, type: string, file: string, line: number, uses: number }

export interface Problem { kind: 'undefined' | 'ambiguous' | 'failed' | 'pending' | 'skipped' | 'unknown', text: string }

export interface BddReport {
  features: string[]
  scenarios: Array<{ feature: string, name: string, tags: string[], status: string }>
  steps: StepResult[]
  registry: RegistryEntry[]
  /** static-check and run problems, with their messages */
  problems: Problem[]
  undefinedSteps: string[]
  ambiguousSteps: string[]
  success: boolean
  output: string
  duration_ms: number
}

/** `LLORCH_BDD_FEATURE_PATH` (a file or folder, absolute or relative to the harness root), else `features/`. */
export function featurePaths (env: NodeJS.ProcessEnv = process.env): string[] {
  const chosen = env.LLORCH_BDD_FEATURE_PATH?.trim()
  const p = chosen ? (isAbsolute(chosen) ? chosen : resolve(HARNESS_ROOT, chosen)) : join(HARNESS_ROOT, 'features')
  let dir: boolean
  try { dir = statSync(p).isDirectory() } catch { throw new Error(`LLORCH_BDD_FEATURE_PATH: no such file or folder: ${p}`) }
  return [dir ? join(p, '**/*.feature') : p]
}

/** Loads the step definitions and World once per process; `extra` adds support files (relative to the harness root). */
export async function loadSteps (extra: string[] = []): Promise<ISupportCodeLibrary> {
  return await loadSupport({
    sources: { defaultDialect: 'en', paths: [], names: [], tagExpression: '', order: 'defined' },
    support: { importPaths: [...STEP_FILES, ...extra].map((f) => join(HARNESS_ROOT, f)), requireModules: [], requirePaths: [], loaders: [] },
  }, { cwd: HARNESS_ROOT })
}

class Sink extends Writable {
  text = ''
  override _write (chunk: Buffer, _enc: string, cb: () => void): void { this.text += chunk.toString(); cb() }
}

interface Pass { envelopes: Envelope[], success: boolean, output: string }

async function pass (paths: string[], support: ISupportCodeLibrary, dryRun: boolean): Promise<Pass> {
  const stdout = new Sink()
  const environment = { cwd: HARNESS_ROOT, stdout, stderr: stdout, env: process.env }
  const { runConfiguration } = await loadConfiguration({
    file: false,
    provided: { paths, strict: true, dryRun, format: ['summary'], publish: false, forceExit: false },
  }, environment)
  const envelopes: Envelope[] = []
  const { success } = await runCucumber({ ...runConfiguration, support }, environment, (e) => { envelopes.push(e) })
  return { envelopes, success, output: stdout.text }
}

const rel = (uri: string): string => relative(HARNESS_ROOT, resolve(HARNESS_ROOT, uri))

interface Index {
  pickles: Map<string, Pickle>
  cases: Map<string, TestCase>
  /** astNodeId → line in its feature */
  lines: Map<string, number>
  /** astNodeId of a step → its keyword */
  keywords: Map<string, string>
  features: Map<string, string>
  stepDefs: Map<string, RegistryEntry>
}

function indexOf (envelopes: Envelope[]): Index {
  const ix: Index = { pickles: new Map(), cases: new Map(), lines: new Map(), keywords: new Map(), features: new Map(), stepDefs: new Map() }
  for (const e of envelopes) {
    if (e.pickle) ix.pickles.set(e.pickle.id, e.pickle)
    if (e.testCase) ix.cases.set(e.testCase.id, e.testCase)
    if (e.stepDefinition) {
      const d = e.stepDefinition
      ix.stepDefs.set(d.id, {
        pattern: d.pattern.source,
        type: d.pattern.type,
        file: rel(d.sourceReference.uri ?? '?'),
        line: d.sourceReference.location?.line ?? 0,
        uses: 0,
      })
    }
    const doc = e.gherkinDocument
    if (doc?.feature) {
      ix.features.set(doc.uri ?? '', doc.feature.name)
      const children = doc.feature.children.flatMap((c) => [
        ...(c.background ? [c.background] : []),
        ...(c.scenario ? [c.scenario] : []),
        ...(c.rule?.children.flatMap((r) => [...(r.background ? [r.background] : []), ...(r.scenario ? [r.scenario] : [])]) ?? []),
      ])
      for (const sc of children) {
        ix.lines.set(sc.id, sc.location.line)
        for (const st of sc.steps) {
          ix.lines.set(st.id, st.location.line)
          ix.keywords.set(st.id, st.keyword.trim())
        }
      }
    }
  }
  return ix
}

/** The static check over a dry run: each pickle step must have exactly one step definition. */
function staticProblems (ix: Index): Problem[] {
  const problems: Problem[] = []
  const seen = new Set<string>()
  for (const tc of ix.cases.values()) {
    const pickle = ix.pickles.get(tc.pickleId)!
    for (const ts of tc.testSteps) {
      if (ts.pickleStepId === undefined) continue
      const ps = pickle.steps.find((s) => s.id === ts.pickleStepId)!
      const n = ts.stepDefinitionIds?.length ?? 0
      const line = ix.lines.get(ps.astNodeIds[0]!)
      const where = `${rel(pickle.uri)}`
      const key = `${where}:${line}:${ps.text}`
      if (seen.has(key)) continue // a Background step repeats per scenario
      seen.add(key)
      if (n === 0) problems.push({ kind: 'undefined', text: `undefined step '${ps.text}' in ${where}` })
      else if (n > 1) problems.push({ kind: 'ambiguous', text: `ambiguous step '${ps.text}' in ${where} (${n} matches)` })
    }
  }
  return problems
}

export async function runBdd (o: { paths?: string[], support: ISupportCodeLibrary }): Promise<BddReport> {
  const started = Date.now()
  const paths = o.paths ?? featurePaths()
  const dry = await pass(paths, o.support, true)
  const dryIx = indexOf(dry.envelopes)
  const problems = staticProblems(dryIx)
  for (const tc of dryIx.cases.values()) {
    for (const ts of tc.testSteps) {
      if (ts.stepDefinitionIds?.length === 1) dryIx.stepDefs.get(ts.stepDefinitionIds[0]!)!.uses++
    }
  }
  const run = await pass(paths, o.support, false)
  const ix = indexOf(run.envelopes)
  const stepOf = new Map<string, { tc: TestCase, text: string, line: number | null }>()
  for (const tc of ix.cases.values()) {
    const pickle = ix.pickles.get(tc.pickleId)!
    for (const ts of tc.testSteps) {
      if (ts.pickleStepId !== undefined) {
        const ps = pickle.steps.find((s) => s.id === ts.pickleStepId)!
        const node = ps.astNodeIds[0]!
        stepOf.set(ts.id, { tc, text: `${ix.keywords.get(node) ?? ''} ${ps.text}`.trim(), line: ix.lines.get(node) ?? null })
      } else {
        const first = tc.testSteps.findIndex((s) => s.pickleStepId !== undefined)
        const before = first === -1 || tc.testSteps.indexOf(ts) < first
        stepOf.set(ts.id, { tc, text: before ? 'Before hook' : 'After hook', line: null })
      }
    }
  }
  const caseOfStarted = new Map<string, string>()
  const steps: StepResult[] = []
  const scenarioStatus = new Map<string, string>()
  for (const e of run.envelopes) {
    if (e.testCaseStarted) caseOfStarted.set(e.testCaseStarted.id, e.testCaseStarted.testCaseId)
    const f = e.testStepFinished
    if (!f) continue
    const s = stepOf.get(f.testStepId)!
    const pickle = ix.pickles.get(s.tc.pickleId)!
    const r = f.testStepResult
    const durationMs = r.duration.seconds * 1000 + r.duration.nanos / 1e6
    steps.push({
      feature: rel(pickle.uri),
      scenario: pickle.name,
      step: s.text,
      line: s.line,
      status: r.status,
      duration_ms: Math.round(durationMs * 1000) / 1000,
      ...(r.message ? { message: r.message } : {}),
    })
    const prev = scenarioStatus.get(pickle.id)
    if (prev === undefined || prev === 'PASSED') scenarioStatus.set(pickle.id, r.status)
    if (r.status !== 'PASSED') {
      const kinds = { FAILED: 'failed', UNDEFINED: 'undefined', AMBIGUOUS: 'ambiguous', PENDING: 'pending', SKIPPED: 'skipped' } as const
      const kind = kinds[r.status as keyof typeof kinds] ?? 'unknown'
      const msg = r.message ? `: ${r.message.split('\n').slice(0, 4).join(' | ')}` : ''
      const where = `${rel(pickle.uri)}${s.line ? ` (line ${s.line})` : ''}`
      problems.push({ kind, text: `${r.status.toLowerCase()} step '${s.text}' in ${where}, scenario "${pickle.name}"${msg}` })
    }
  }
  const scenarios = [...ix.pickles.values()].map((p) => ({
    feature: rel(p.uri),
    name: p.name,
    tags: p.tags.map((t) => t.name),
    status: scenarioStatus.get(p.id) ?? 'UNKNOWN',
  }))
  for (const sc of scenarios) if (sc.status === 'UNKNOWN') problems.push({ kind: 'unknown', text: `scenario "${sc.name}" in ${sc.feature} ran no step` })
  const pick = (k: Problem['kind']): string[] => problems.filter((p) => p.kind === k && /^(undefined|ambiguous) step '/.test(p.text) && !p.text.includes('scenario "')).map((p) => p.text)
  return {
    features: [...new Set([...ix.pickles.values()].map((p) => rel(p.uri)))],
    scenarios,
    steps,
    registry: [...dryIx.stepDefs.values()],
    problems,
    undefinedSteps: pick('undefined'),
    ambiguousSteps: pick('ambiguous'),
    success: run.success && dry.success && problems.length === 0,
    output: run.output,
    duration_ms: Date.now() - started,
  }
}
