import type { Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

// Helpers of the black-box crash tests (issue 6 acceptance): real child processes killed
// with SIGKILL at random moments, in loops bounded by iterations and time.
export const WORKER = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url))
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
export const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`

export interface Worker { proc: ChildProcess, out (): string, exited: Promise<number | null> }

export function worker (t: Test, args: string[]): Worker {
  const proc = spawn(process.execPath, [...process.execArgv, WORKER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let text = ''
  proc.stdout!.on('data', (d) => { text += String(d) })
  proc.stderr!.on('data', (d) => { text += String(d) })
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
  t.teardown(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL') })
  return { proc, out: () => text, exited }
}

export async function waitFor (w: Worker, pattern: RegExp, ms = 30_000): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!pattern.test(w.out())) {
    if (w.proc.exitCode !== null) return false
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}: ${w.out()}`)
    await sleep(5)
  }
  return true
}

/** The catalog parses, is version 1, and every entry it lists has its complete file. */
export function catalogIsSound (t: Test, root: string): string[] {
  const file = join(root, 'index.json')
  if (!existsSync(file)) return []
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { schema_version: number, entries: Record<string, { local_path: string, digest: string }> }
  t.equal(doc.schema_version, 1)
  const bad = Object.values(doc.entries).filter((e) => !existsSync(e.local_path) || sha(readFileSync(e.local_path)) !== e.digest)
  t.same(bad, [], 'no listed model has a missing or incomplete file')
  return Object.keys(doc.entries)
}

export const budget = (start: number, i: number, ms: number) => i < 5 || (i < 20 && Date.now() - start < ms)
