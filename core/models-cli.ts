import { parseArgs } from 'node:util'
import { loadManifest, parseManifest } from './manifest-load.js'
import type { Manifest } from './manifest.js'
import { catalogRoot } from '../plugins/catalog/index.js'
import { createCatalog } from '../plugins/catalog/catalog.js'
import { CatalogStore } from '../lib/catalog-store/store.js'
import { toApi } from '../plugins/catalog/service.js'
import type { ModelEntry } from '../lib/catalog-store/entries.js'
import { createModelProvisioner } from '../plugins/models/provisioner.js'
import { ORC_ERR_CLI_USAGE } from './errors.js'
import { formatBytes, progressBar } from '../plugins/models/progress.js'
import type { CommandRunner } from '../plugins/models/tools.js'

export interface CliIo { out (line: string): void, err (line: string): void }

export const MODELS_USAGE = `Usage:
  llama-orch models list [--json]                 the models in the catalog
  llama-orch models pull REF [--digest sha256:HEX] stage a model ref (hf:, https://, file:, s3://, oci://) and register it Active
  llama-orch models verify ID [--json]            re-hash a model's files against its recorded digest
  llama-orch models rm ID                         remove a model (and the files the catalog downloaded for it)
Common options: --config FILE (catalog root, policy and fetch settings from a manifest), --root DIR (catalog root)`

export interface ModelsCliDeps {
  /** Where pull draws its progress bar; a bar is drawn only on a terminal. */
  tty?: { write (s: string): unknown, columns?: number, isTTY?: boolean }
  runner?: CommandRunner
  env?: NodeJS.ProcessEnv
}

function row (e: ModelEntry): string {
  const size = e.size_bytes !== undefined ? formatBytes(e.size_bytes) : '-'
  return [e.id, e.lifecycle, e.trust_state ?? '-', size, e.digest ? `${e.digest.slice(0, 19)}…` : '-', e.local_path ?? '-'].join('  ')
}

/**
 * `llama-orch models …`: the same store, provisioner and verification the `/v1/catalog`
 * routes use, run directly on the catalog root (no server needed; a running server notices
 * the changes within a second). Returns the exit status: 0 ok, 1 failure, 2 usage.
 */
export async function modelsCli (argv: string[], io: CliIo, deps: ModelsCliDeps = {}): Promise<number> {
  try {
    return await run(argv, io, deps)
  } catch (err) {
    if (err instanceof ORC_ERR_CLI_USAGE) { io.err(`llama-orch: ${err.message}\n\n${MODELS_USAGE}`); return 2 }
    io.err((err as Error).message.startsWith('llama-orch') ? (err as Error).message : `llama-orch: ${(err as Error).message}`)
    return 1
  }
}

async function run (argv: string[], io: CliIo, deps: ModelsCliDeps): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === undefined || sub === '-h' || sub === '--help') { io.out(MODELS_USAGE); return 0 }
  let parsed
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: { config: { type: 'string' }, root: { type: 'string' }, digest: { type: 'string' }, json: { type: 'boolean' } },
    })
  } catch (err) { throw new ORC_ERR_CLI_USAGE((err as Error).message) }
  const { values, positionals } = parsed
  const manifest: Manifest = values.config !== undefined ? await loadManifest(values.config) : parseManifest({ pools: [] }, 'defaults')
  const root = values.root ?? catalogRoot(manifest.catalog)
  const store = new CatalogStore(root).open()
  const arg = (what: string): string => {
    if (positionals.length !== 1) throw new ORC_ERR_CLI_USAGE(`models ${sub} needs exactly one ${what}`)
    return positionals[0]!
  }
  if (sub === 'list') {
    if (positionals.length > 0) throw new ORC_ERR_CLI_USAGE('models list takes no arguments')
    const all = store.list()
    if (values.json) io.out(JSON.stringify(all.map(toApi), null, 2))
    else if (all.length === 0) io.out(`no models in the catalog at ${store.root}`)
    else for (const e of all) io.out(row(e))
    return 0
  }
  if (sub === 'pull') {
    const ref = arg('REF')
    const tty = deps.tty ?? process.stderr
    const bar = tty.isTTY ? progressBar(tty, ref) : null
    const provisioner = createModelProvisioner({
      store,
      policy: manifest.policy,
      fetch: manifest.catalog.fetch,
      narrate: (_f, human, level) => { if (bar === null || level === 'warn') io.err(human) },
      ...(deps.runner ? { runner: deps.runner } : {}),
      ...(deps.env ? { env: deps.env } : {}),
    })
    try {
      const r = await provisioner.ensurePresent(ref, values.digest ?? null, bar ? { onProgress: bar.update } : {})
      bar?.done()
      io.out(values.json ? JSON.stringify(r) : `${r.id}  ${r.lifecycle}  ${r.digest ?? '-'}  ${r.local_path}`)
      return 0
    } catch (err) {
      bar?.done()
      throw err
    }
  }
  if (sub === 'verify') {
    const id = arg('ID')
    const entry = await createCatalog(store, { trustPolicy: manifest.catalog.trust_policy ?? null }).verify(id)
    const v = entry.verification!
    if (values.json) io.out(JSON.stringify(toApi(entry)))
    else (v.result === 'fail' ? io.err : io.out)(`${id}: ${v.result} (${v.reason})`)
    return v.result === 'fail' ? 1 : 0
  }
  if (sub === 'rm') {
    const id = arg('ID')
    const res = await store.delete(id)
    if (!res.deleted) { io.err(`llama-orch: no model ${JSON.stringify(id)} in the catalog at ${store.root}`); return 1 }
    if (res.artifact_error) io.err(res.artifact_error)
    const kept = res.artifact === 'removed' ? ' and its files' : res.artifact === 'external' ? ' (its files are not the catalog\'s and were kept)' : ''
    io.out(`removed ${id}${kept}`)
    return res.artifact_error ? 1 : 0
  }
  throw new ORC_ERR_CLI_USAGE(`unknown command "models ${sub}"`)
}
