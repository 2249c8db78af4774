/**
 * llama-server's command line (spec pools §2.4 "Runtime flag normalisation", ORCH-3605): GPU
 * layer flags in one spelling, none on CPU (`--n-gpu-layers 0`), and the flags the
 * orchestrator itself relies on added when the pool's flags do not already say them:
 * `--metrics` (the adapter scrapes /metrics), `--jinja` (chat with the model's template), and
 * the single-slot, no-continuous-batching form when the pool asks for determinism.
 */
const GPU_LAYER_FLAGS = ['--ngl', '-ngl', '--gpu-layers', '--n-gpu-layers']

/** The GPU-layer pairs normalised for the compute mode; everything else passes through in order. */
export function normaliseFlags (flags: readonly string[], compute: 'gpu' | 'cpu'): string[] {
  const out: string[] = []
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i]!
    if (!GPU_LAYER_FLAGS.includes(f)) { out.push(f); continue }
    const value = flags[i + 1]
    if (value === undefined || value.startsWith('-')) continue // a pair missing its value is dropped
    i++
    if (compute === 'gpu') out.push('--n-gpu-layers', value)
  }
  if (compute === 'cpu') out.push('--n-gpu-layers', '0')
  return out
}

export interface LaunchInput {
  binary: string
  model: string
  alias: string
  host: string
  port: number
  flags: readonly string[]
  compute: 'gpu' | 'cpu'
  ctx: number | null
  /** The pool's `tensor_split` ratios, one per device, as llama-server's `--tensor-split`. */
  tensorSplit?: readonly number[] | null
  /** `--parallel` unless the flags set it: the pool's slot count is what the orchestrator leases. */
  slots: number
  /** `--no-cont-batching` (with one slot: byte-exact streams, ORCH-3050) unless the flags say otherwise. */
  deterministic: boolean
}

const has = (flags: readonly string[], ...names: string[]): boolean => flags.some((f) => names.includes(f))

export function launchArgs (o: LaunchInput): string[] {
  const flags = normaliseFlags(o.flags, o.compute)
  const extra: string[] = []
  if (!has(flags, '--metrics')) extra.push('--metrics')
  if (!has(flags, '--jinja', '--no-jinja')) extra.push('--jinja')
  if (!has(flags, '--no-webui')) extra.push('--no-webui')
  if (o.ctx !== null && !has(flags, '--ctx-size', '-c')) extra.push('--ctx-size', String(o.ctx))
  if (o.tensorSplit && o.compute === 'gpu' && !has(flags, '--tensor-split', '-ts')) extra.push('--tensor-split', o.tensorSplit.join(','))
  if (!has(flags, '--parallel', '-np')) extra.push('--parallel', String(o.slots))
  if (o.deterministic && !has(flags, '--no-cont-batching', '--cont-batching', '-cb', '-nocb')) extra.push('--no-cont-batching')
  return ['--model', o.model, '--host', o.host, '--port', String(o.port), '--alias', o.alias, ...flags, ...extra]
}
