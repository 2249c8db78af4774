/**
 * The embedded engine worker: one child process per replica. It listens at once (answering
 * 503 "Loading model"), loads the GGUF through node-llama-cpp's prebuilt binary (never a
 * source build), then serves the llama-server API subset. Flags follow llama-server's names:
 *
 *   worker --model FILE [--host 127.0.0.1] [--port 8080] [--threads 1] [--ctx-size 2048]
 *          [--parallel 1] [--alias NAME] [--metrics] [--gpu auto|off] [--require-gpu]
 *          [--exit-on-stdin-close]
 *
 * It prints JSON lines on stdout: {"event":"listening","port":N}, then {"event":"ready",…}.
 * A load failure is printed on stderr and exits with status 1.
 */
import { parseArgs } from 'node:util'
import type { AddressInfo } from 'node:net'
import { WorkerEngine } from './worker-engine.js'
import { createWorkerServer } from './worker-http.js'
import { ORC_ERR_EMBEDDED_WORKER_ARGS } from './errors.js'

export interface WorkerArgs {
  model: string
  host: string
  port: number
  threads: number
  ctx: number
  parallel: number
  alias: string
  metrics: boolean
  gpu: 'auto' | false
  requireGpu: boolean
  exitOnStdinClose: boolean
}

export function parseWorkerArgs (argv: string[]): WorkerArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      model: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      threads: { type: 'string' },
      'ctx-size': { type: 'string' },
      parallel: { type: 'string' },
      alias: { type: 'string' },
      metrics: { type: 'boolean' },
      gpu: { type: 'string' },
      'require-gpu': { type: 'boolean' },
      'exit-on-stdin-close': { type: 'boolean' },
    },
  })
  if (values.model === undefined) throw new ORC_ERR_EMBEDDED_WORKER_ARGS('--model FILE is required')
  const int = (name: string, v: string | undefined, fallback: number, min: number): number => {
    if (v === undefined) return fallback
    const n = Number(v)
    if (!Number.isInteger(n) || n < min) throw new ORC_ERR_EMBEDDED_WORKER_ARGS(`--${name} must be an integer ≥ ${min}, got "${v}"`)
    return n
  }
  if (values.gpu !== undefined && values.gpu !== 'auto' && values.gpu !== 'off') {
    throw new ORC_ERR_EMBEDDED_WORKER_ARGS(`--gpu must be auto or off, got "${values.gpu}"`)
  }
  return {
    model: values.model,
    host: values.host ?? '127.0.0.1',
    port: int('port', values.port, 8080, 0),
    threads: int('threads', values.threads, 1, 1),
    ctx: int('ctx-size', values['ctx-size'], 2048, 16),
    parallel: int('parallel', values.parallel, 1, 1),
    alias: values.alias ?? values.model,
    metrics: values.metrics === true,
    gpu: values.gpu === 'auto' ? 'auto' : false,
    requireGpu: values['require-gpu'] === true,
    exitOnStdinClose: values['exit-on-stdin-close'] === true,
  }
}

async function run (): Promise<void> {
  const args = parseWorkerArgs(process.argv.slice(2))
  const engine = new WorkerEngine({
    modelPath: args.model,
    ctx: args.ctx,
    threads: args.threads,
    parallel: args.parallel,
    gpu: args.gpu,
    requireGpu: args.requireGpu,
  })
  const server = createWorkerServer(engine, { alias: args.alias, metrics: args.metrics })
  const say = (event: Record<string, unknown>): void => { process.stdout.write(`${JSON.stringify(event)}\n`) }
  let stopping = false
  const stop = async (code: number): Promise<never> => {
    if (!stopping) {
      stopping = true
      server.closeAllConnections()
      server.close()
      await engine.dispose().catch(() => {})
    }
    process.exit(code)
  }
  process.on('SIGTERM', () => { void stop(0) })
  process.on('SIGINT', () => { void stop(0) })
  // supervised: when the parent dies its end of our stdin closes, and we must not outlive it
  if (args.exitOnStdinClose) { process.stdin.on('end', () => { void stop(0) }); process.stdin.resume() }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(args.port, args.host, resolve)
  })
  say({ event: 'listening', port: (server.address() as AddressInfo).port })
  const t0 = performance.now()
  await engine.load()
  say({ event: 'ready', load_ms: Math.round(performance.now() - t0), compute_mode: engine.computeMode, build_info: engine.buildInfo, threads: args.threads })
}

run().catch((err: Error) => {
  process.stderr.write(`llama-orch embedded worker: ${err.message.split('\n')[0]}\n`)
  process.exit(1)
})
