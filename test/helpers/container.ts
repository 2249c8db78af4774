/**
 * For the container providers' tests: a pool in mode container, and a PreparedEngine started
 * the way the pool manager starts one (its bin and args, its env over ours) until its health
 * URL answers 200.
 */
import type { Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { request } from 'undici'
import type { PreparedEngine } from '../../sdk/index.js'
import type { PoolConfig } from '../../sdk/pool-config.js'
import { manifestOf } from './build.js'
import { waitFor } from './wait.js'

export const containerPool = (engine: string, prov: Record<string, unknown> = {}, over: Record<string, unknown> = {}): PoolConfig => manifestOf({
  pools: [{ id: `${engine}0`, engine, model: 'tiny', devices: [], provisioning: { mode: 'container', compute_policy: 'cpu-only', ...prov }, ...over }],
}).pools[0]!

export const OPEN_POLICY = { allow_outbound_network: true, outbound_allowlist: [], allow_package_installs: false, allow_binary_downloads: false }
export const CLOSED_POLICY = { ...OPEN_POLICY, allow_outbound_network: false }

export async function status (url: string): Promise<number> {
  try {
    const r = await request(url, { signal: AbortSignal.timeout(1000) })
    await r.body.dump()
    return r.statusCode
  } catch {
    return 0
  }
}

/** Starts the prepared engine and resolves once its health probe passes; the test's teardown stops it. */
export async function startPrepared (t: Test, prepared: PreparedEngine): Promise<{ child: ChildProcess, exited: Promise<NodeJS.Signals | number | null> }> {
  const child = spawn(prepared.bin, prepared.args, { env: { ...process.env, ...prepared.env }, stdio: ['pipe', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (d) => { output += String(d) })
  child.stderr!.on('data', (d) => { output += String(d) })
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)))
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let gone = false
  void exited.then(() => { gone = true })
  await waitFor(`${prepared.health.url} to answer 200`, async () => {
    if (gone) throw new Error(`the engine exited before its health check passed: ${output}`)
    return await status(prepared.health.url) === 200
  }, 20_000)
  return { child, exited }
}
