/**
 * The one-screen summary of a proof run (`npm run proof`, and `.ci/run` after the tests): merges
 * the suites' summaries into the run's summary.json and prints what each harness proved. Exits
 * non-zero when a harness that ran misses its acceptance bar, or when none ran at all.
 */
import { mergeSummary, proofRoot } from './bundle.js'

type Rec = Record<string, any>

const root = proofRoot()
const s = await mergeSummary(root) as Rec
const lines: string[] = [`proof bundle ${root}`]
const bad: string[] = []
const check = (ok: boolean, what: string): string => { if (!ok) bad.push(what); return ok ? 'ok  ' : 'FAIL' }

const d: Rec | undefined = s.determinism
if (d) {
  const ok = d.invalid === null && d.identical === d.comparisons && d.seeds_distinct.share >= 0.9
  lines.push(`${check(ok, 'determinism')} determinism  ${d.streams} streams, ${d.identical}/${d.comparisons} comparisons identical ` +
    `(replicas ${d.replicas.identical}/${d.replicas.compared}, runs ${d.runs.identical}/${d.runs.compared}, ` +
    `builds greedy ${d.builds.greedy.identical}/${d.builds.greedy.compared}${d.builds.present ? '' : ' (no llama-server)'}); ` +
    `seeds distinct ${d.seeds_distinct.distinct}/${d.seeds_distinct.pairs}`)
}
const c: Rec | undefined = s.chaos
if (c) {
  const ok = c.tasks >= 1000 && c.lost === 0 && c.duplicated === 0 && c.post_cancel_tokens === 0 && c.ready_after !== null
  const kinds = typeof c.faults === 'object' && c.faults !== null ? Object.entries(c.faults as Record<string, number>).filter(([k]) => k !== 'pass') : []
  const faults = kinds.length ? `${kinds.reduce((n, [, v]) => n + v, 0)} faults (${kinds.map(([k, v]) => `${k} ${v}`).join(', ')})` : `${c.faults} faults`
  lines.push(`${check(ok, 'chaos')} chaos        ${c.tasks} tasks, ${faults}; ` +
    `lost ${c.lost}, duplicated ${c.duplicated}, post-cancel tokens ${c.post_cancel_tokens}, ready after ${c.ready_after} ms`)
}
const b: Rec | undefined = s.bdd
if (b) {
  const ok = b.failed === 0 && b.undefined_steps === 0 && (b.ambiguous_steps ?? 0) === 0 && b.scenarios > 0
  lines.push(`${check(ok, 'bdd')} bdd          ${b.passed}/${b.scenarios} scenarios passed, ${b.steps} steps, ` +
    `${b.undefined_steps} undefined, ${b.ambiguous_steps ?? 0} ambiguous`)
}
const m: Rec | undefined = s.metrics
if (m) {
  const ok = m.lint_ok === true && m.promtool_ok !== false
  const promtool = m.promtool_ok === null ? 'not installed' : m.promtool_ok ? 'ok' : 'FAILED'
  lines.push(`${check(ok, 'metrics')} metrics      lint ${m.lint_ok ? 'ok' : 'FAILED'}, promtool ${promtool}` +
    ` (${m.promtool_warnings ?? 0} naming warnings), ${m.samples} samples in ${m.families} families`)
}
const n: Rec | undefined = s.narration
if (n) {
  const missing = n.missing.length ? ` (missing: ${n.missing.join(', ')})` : ''
  lines.push(`info narration    ${(n.coverage * 100).toFixed(0)}% of required flows narrated${missing}`)
}
if (!d && !c && !b && !m) bad.push('no harness wrote a summary')
console.log(lines.join('\n'))
if (bad.length) {
  console.log(`proof: ${bad.join(', ')} failed`)
  process.exitCode = 1
}
