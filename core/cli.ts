import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { PACKAGE_VERSION } from '../lib/package-root.js'
import { loadManifest } from './manifest-load.js'
import { resolveExtensions, declaredEngines, engineCoverageIssues } from './extensions.js'
import { declaredHandles, poolCheckIssues, policyGateIssues, providerCoverageIssues } from './provider-coverage.js'
import { ManifestError, ORC_ERR_CLI_USAGE } from './errors.js'
import { sortIssues } from '../lib/validation.js'
import { manifestJsonSchema } from './manifest-schema-doc.js'
import { serve } from './server.js'
import { writeTinyModel } from '../extensions/provider-embedded/tiny-file.js'
import { contractDocument, formatLintReport, lintUrl, readContract } from '../plugins/metrics/index.js'
import { modelsCli } from './models-cli.js'
import { provisionCli } from './provision-cli.js'

export interface Io { out (line: string): void, err (line: string): void }

const stdio: Io = {
  out: (line) => { process.stdout.write(`${line}\n`) },
  err: (line) => { process.stderr.write(`${line}\n`) },
}

export const USAGE = `llama-orch ${PACKAGE_VERSION}: a self-hosted LLM orchestrator

Usage:
  llama-orch serve --config FILE [--port N] [--host H]
      start the orchestrator; SIGINT/SIGTERM stop it gracefully
  llama-orch config check FILE
      validate a manifest (schema, extensions, engines, providers) without starting anything
  llama-orch config schema
      print the manifest's JSON Schema (for editors)
  llama-orch metrics lint --url URL [--contract FILE] [--json]
      check a live /metrics scrape against the metrics contract
  llama-orch metrics contract
      print the metrics contract this build implements
  llama-orch model tiny --out FILE [--ctx N] [--if-missing]
      write the deterministic tiny test model (GGUF, ~480 KB; \`Count: 3\` → 456789)
  llama-orch models list|pull REF|verify ID|rm ID [--config FILE] [--root DIR]
      the model catalog: list, stage (--digest sha256:HEX), re-verify, remove
  llama-orch provision --config FILE [--pool ID] [--plan] [--json]
      build, download or install each pool's engine (and stage its model) without serving;
      --plan prints the steps and does nothing

Options:
  -h, --help      show this help
  -v, --version   print the version

Exit status: 0 success, 1 failure (invalid manifest, lint problems, startup error), 2 usage error.`

/** Runs one CLI command and returns its exit status (`serve` resolves when the server stops). */
export async function main (argv: string[], io: Io = stdio): Promise<number> {
  try {
    return await dispatch(argv, io)
  } catch (err) {
    if (err instanceof ORC_ERR_CLI_USAGE) {
      io.err(`llama-orch: ${err.message}\n\n${USAGE}`)
      return 2
    }
    io.err(err instanceof ManifestError ? err.message : `llama-orch: ${(err as Error).message}`)
    return 1
  }
}

async function dispatch (argv: string[], io: Io): Promise<number> {
  const [command, sub] = argv
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') { io.out(USAGE); return 0 }
  if (command === '-v' || command === '--version') { io.out(PACKAGE_VERSION); return 0 }
  if (command === 'serve') return runServe(argv.slice(1))
  if (command === 'config' && sub === 'check') return configCheck(argv.slice(2), io)
  if (command === 'config' && sub === 'schema') { io.out(JSON.stringify(manifestJsonSchema(), null, 2)); return 0 }
  if (command === 'metrics' && sub === 'lint') return metricsLint(argv.slice(2), io)
  if (command === 'metrics' && sub === 'contract') { io.out(JSON.stringify(contractDocument(), null, 2)); return 0 }
  if (command === 'model' && sub === 'tiny') return modelTiny(argv.slice(2), io)
  if (command === 'models') return modelsCli(argv.slice(1), io)
  if (command === 'provision') return provisionCli(argv.slice(1), io)
  throw new ORC_ERR_CLI_USAGE(`unknown command "${argv.slice(0, 2).join(' ')}"`)
}

function parse<T extends Record<string, { type: 'string' | 'boolean' }>> (args: string[], options: T, positionals = 0) {
  try {
    const parsed = parseArgs({ args, options, allowPositionals: positionals > 0, strict: true })
    if (parsed.positionals.length > positionals) throw new ORC_ERR_CLI_USAGE(`unexpected argument "${parsed.positionals[positionals]}"`)
    return parsed
  } catch (err) {
    throw err instanceof ORC_ERR_CLI_USAGE ? err : new ORC_ERR_CLI_USAGE((err as Error).message)
  }
}

async function runServe (args: string[]): Promise<number> {
  const { values } = parse(args, { config: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } })
  if (values.config === undefined) throw new ORC_ERR_CLI_USAGE('serve needs --config FILE')
  let port: number | undefined
  if (values.port !== undefined) {
    port = Number(values.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ORC_ERR_CLI_USAGE(`--port must be an integer 0..65535, got "${values.port}"`)
  }
  const running = await serve({ config: values.config, ...(port !== undefined ? { port } : {}), ...(values.host !== undefined ? { host: values.host } : {}) })
  return running.stopped
}

async function configCheck (args: string[], io: Io): Promise<number> {
  const { positionals } = parse(args, {}, 1)
  const file = positionals[0]
  if (file === undefined) throw new ORC_ERR_CLI_USAGE('config check needs a FILE')
  try {
    const manifest = await loadManifest(file)
    const extensions = await resolveExtensions(manifest, { source: file })
    const engines = declaredEngines(extensions.adapters)
    const handles = declaredHandles(extensions.providers)
    // checks that need the extensions; skipped only where an extension does not declare what it serves
    const unservable = [
      ...(engines !== undefined ? engineCoverageIssues(manifest.pools, engines) : []),
      ...(handles !== undefined ? [...providerCoverageIssues(manifest.pools, handles), ...policyGateIssues(manifest.policy, handles)] : []),
      ...poolCheckIssues(manifest.pools, extensions.providers),
    ]
    if (unservable.length > 0) throw new ManifestError(file, sortIssues(unservable))
    const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`
    io.out(
      `${file}: valid (${count(manifest.pools.length, 'pool')}, ${count(extensions.adapters.length, 'adapter')}, ` +
      `${count(extensions.providers.length, 'provider')})`
    )
    return 0
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err
    io.err(`${file}: invalid (${err.issues.length} problem${err.issues.length === 1 ? '' : 's'})`)
    for (const line of err.lines) io.err(line)
    return 1
  }
}

async function metricsLint (args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { url: { type: 'string' }, contract: { type: 'string' }, json: { type: 'boolean' } })
  if (values.url === undefined) throw new ORC_ERR_CLI_USAGE('metrics lint needs --url URL (e.g. http://127.0.0.1:8080/metrics)')
  const report = await lintUrl(values.url, values.contract === undefined ? readContract() : readContract(values.contract))
  if (values.json) io.out(JSON.stringify(report, null, 2))
  else for (const line of formatLintReport(report)) (report.ok ? io.out : io.err)(line)
  return report.ok ? 0 : 1
}

async function modelTiny (args: string[], io: Io): Promise<number> {
  const { values } = parse(args, { out: { type: 'string' }, ctx: { type: 'string' }, 'if-missing': { type: 'boolean' } })
  if (values.out === undefined) throw new ORC_ERR_CLI_USAGE('model tiny needs --out FILE')
  if (values['if-missing'] === true && existsSync(values.out)) { io.out(`${values.out} exists; kept as it is`); return 0 }
  const ctx = values.ctx === undefined ? undefined : Number(values.ctx)
  if (ctx !== undefined && (!Number.isInteger(ctx) || ctx < 16)) throw new ORC_ERR_CLI_USAGE(`--ctx must be an integer ≥ 16, got "${values.ctx}"`)
  const written = await writeTinyModel(values.out, ctx === undefined ? {} : { ctx })
  io.out(`wrote ${written.path} (${written.bytes} bytes, sha256:${written.sha256})`)
  return 0
}
