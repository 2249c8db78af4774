import type { FastifyInstance } from 'fastify'
import { loadManifest } from './manifest-load.js'
import { buildApp } from './app.js'
import type { Manifest } from './manifest.js'

export interface ServeOptions {
  config: string
  port?: number
  host?: string
  env?: NodeJS.ProcessEnv
}

export interface RunningServer {
  app: FastifyInstance
  url: string
  /** Resolves with the exit code once a stop signal has been handled. */
  stopped: Promise<number>
  stop (reason: string): Promise<number>
}

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])

/** Config precedence: command-line flags, then LOG_LEVEL / LOG_FORMAT, then the manifest. */
export function applyOverrides (manifest: Manifest, opts: ServeOptions): Manifest {
  const env = opts.env ?? process.env
  const server = { ...manifest.server }
  if (opts.port !== undefined) server.port = opts.port
  if (opts.host !== undefined) server.host = opts.host
  if (env.LOG_LEVEL && LOG_LEVELS.has(env.LOG_LEVEL)) server.log_level = env.LOG_LEVEL as Manifest['server']['log_level']
  if (env.LOG_FORMAT === 'json' || env.LOG_FORMAT === 'pretty') server.log_format = env.LOG_FORMAT
  return { ...manifest, server }
}

export function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.')
}

/**
 * Loads the manifest, boots the app, listens, and handles SIGINT/SIGTERM with a graceful
 * close bounded by `server.shutdown_timeout_ms`. A second signal forces the exit.
 */
export async function serve (opts: ServeOptions): Promise<RunningServer> {
  const manifest = applyOverrides(await loadManifest(opts.config), opts)
  const app = await buildApp(manifest, { source: opts.config })
  const { host, port } = manifest.server
  let address: string
  try {
    address = await app.listen({ host, port })
  } catch (err) {
    // e.g. a pool no provider serves, refused when the app becomes ready: stop what was built
    await app.close().catch(() => {})
    throw err
  }
  const url = address.replace('[::1]', 'localhost')
  const { narrate } = app.narration
  const pools = manifest.pools.length
  narrate({ actor: 'orchestratord', action: 'start', target: url, pools, adapters: app.adapters.engines() },
    `orchestrator listens on ${url} with ${pools} pool${pools === 1 ? '' : 's'}`)
  if (!isLoopback(host) && manifest.auth.api_keys.length === 0) {
    narrate({ actor: 'orchestratord', action: 'start', target: host },
      `listens on non-loopback ${host} with no API key gate; anyone who reaches it can use it`, 'warn')
  }

  let settle: (code: number) => void = () => {}
  const stopped = new Promise<number>((resolve) => { settle = resolve })
  let stopping: Promise<number> | undefined
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) settle(1) // a second signal: stop waiting for the graceful close
    else void stop(signal)
  }
  const stop = (reason: string): Promise<number> => {
    stopping ??= (async () => {
      narrate({ actor: 'orchestratord', action: 'stop', target: url, reason }, `orchestrator stops on ${reason}`)
      const timer = setTimeout(() => settle(1), manifest.server.shutdown_timeout_ms).unref()
      await app.close()
      clearTimeout(timer)
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      settle(0)
      return stopped
    })()
    return stopping
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return { app, url, stopped, stop }
}
