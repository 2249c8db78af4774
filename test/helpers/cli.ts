import type { Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { fromRoot } from '../../lib/package-root.js'
import { main, type Io } from '../../core/cli.js'

/** Runs the CLI in-process and collects what it prints. */
export async function cli (...argv: string[]): Promise<{ code: number, out: string[], err: string[] }> {
  const out: string[] = []
  const err: string[] = []
  const io: Io = { out: (l) => { out.push(l) }, err: (l) => { err.push(l) } }
  const code = await main(argv, io)
  return { code, out, err }
}

export interface Child {
  proc: ChildProcess
  output (): string
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/** Runs the CLI as a real process, from the TypeScript sources, with the loader tap uses. */
export function spawnCli (t: Test, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(process.execPath, [...process.execArgv, fromRoot('core', 'main.ts'), ...args], {
    cwd: fromRoot(),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let text = ''
  proc.stdout!.on('data', (d) => { text += String(d) })
  proc.stderr!.on('data', (d) => { text += String(d) })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('exit', (code, signal) => resolve({ code, signal }))
  })
  t.teardown(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL') })
  return { proc, output: () => text, exited }
}

/** Waits until the child's output matches `pattern`, or fails after `ms`. */
export async function waitForOutput (child: Child, pattern: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms
  for (;;) {
    const m = pattern.exec(child.output())
    if (m) return m
    if (child.proc.exitCode !== null) throw new Error(`process exited (${child.proc.exitCode}) before printing ${pattern}:\n${child.output()}`)
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${child.output()}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
