/**
 * Running a provisioning tool (git, cmake, docker, a package manager) the way a provider
 * needs it: never interactive (stdin closed), every output line appended to a log file and
 * handed to `onLine` (progress), cancellable through an AbortSignal, and the exit status
 * returned rather than thrown so the caller decides what a failure means (a CUDA configure
 * failure is a fallback, not an error).
 */
import { spawn } from 'node:child_process'
import { createWriteStream, type WriteStream } from 'node:fs'
import { access, constants } from 'node:fs/promises'
import { delimiter, join } from 'node:path'

export interface RunOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** A log the command line and every output line are appended to. */
  log?: WriteStream
  onLine?: (line: string) => void
  signal?: AbortSignal
}

export interface RunResult { code: number | null, signal: NodeJS.Signals | null, tail: string }

const TAIL_LINES = 20

/** Opens (appending) the log a build or install writes. */
export const openLog = (file: string): WriteStream => createWriteStream(file, { flags: 'a' })

export async function closeLog (log: WriteStream): Promise<void> {
  await new Promise<void>((resolve) => log.end(resolve))
}

export async function runTool (cmd: string, args: readonly string[], o: RunOptions = {}): Promise<RunResult> {
  o.log?.write(`$ ${[cmd, ...args].join(' ')}\n`)
  const child = spawn(cmd, args, { cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], ...(o.signal ? { signal: o.signal } : {}) })
  const tail: string[] = []
  const lines = (stream: NodeJS.ReadableStream): void => {
    let rest = ''
    stream.setEncoding('utf8')
    stream.on('data', (chunk: string) => {
      o.log?.write(chunk)
      const parts = (rest + chunk).split(/\r?\n|\r/)
      rest = parts.pop() ?? ''
      for (const line of parts) emit(line)
    })
    stream.on('end', () => { if (rest) emit(rest) })
  }
  const emit = (line: string): void => {
    tail.push(line)
    if (tail.length > TAIL_LINES) tail.shift()
    o.onLine?.(line)
  }
  lines(child.stdout)
  lines(child.stderr)
  return await new Promise<RunResult>((resolve, reject) => {
    child.once('error', (err) => {
      if ((err as NodeJS.ErrnoException).code === 'ABORT_ERR') resolve({ code: null, signal: 'SIGTERM', tail: tail.join('\n') })
      else reject(err)
    })
    child.once('close', (code, signal) => {
      o.log?.write(`# exit ${code ?? signal}\n`)
      resolve({ code, signal, tail: tail.join('\n') })
    })
  })
}

/** The first executable named `name` on `PATH` (of `env`), or null. */
export async function which (name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  if (name.includes('/')) return await access(name, constants.X_OK).then(() => name, () => null)
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, name)
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate
  }
  return null
}
