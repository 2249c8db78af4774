import type { Test } from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { CatalogStore } from '../../../lib/catalog-store/store.js'
import { createModelProvisioner, type ProvisionerDeps } from '../provisioner.js'
import type { CommandRunner, RunResult } from '../tools.js'
import { startFakeHub, type FakeHub, type HubOptions } from './fixtures/fake-hub.js'

export const OPEN = { allow_outbound_network: true, outbound_allowlist: [] }
export const FETCH = { concurrency: 4, hf_cli: false, hf_endpoint: null, idle_timeout_ms: 5000 }

export async function hub (t: Test, o: HubOptions = {}): Promise<FakeHub> {
  const h = await startFakeHub(o)
  t.teardown(() => h.close())
  return h
}

export interface Recorded { cmd: string, args: string[], env: NodeJS.ProcessEnv }

/** A command runner for huggingface-cli / aws / oras that writes `files` where the tool would. */
export function fakeRunner (tools: string[], files: Record<string, string> = {}, code = 0): CommandRunner & { calls: Recorded[] } {
  const calls: Recorded[] = []
  return {
    calls,
    async which (cmd) { return tools.includes(cmd) ? `/usr/bin/${cmd}` : null },
    async run (cmd, args, o): Promise<RunResult> {
      calls.push({ cmd, args, env: o.env })
      const dest = args.includes('--local-dir') ? args[args.indexOf('--local-dir') + 1]! : args.includes('-o') ? args[args.indexOf('-o') + 1]! : args[3]!
      for (const [rel, text] of Object.entries(files)) {
        const p = rel === '' ? dest : join(dest, rel)
        mkdirSync(dirname(p), { recursive: true })
        writeFileSync(p, text)
      }
      return { code, stdout: 'done', stderr: code === 0 ? '' : 'AccessDenied: no credentials' }
    },
  }
}

export function provisioner (t: Test, extra: Partial<ProvisionerDeps> = {}, root = t.testdir()) {
  const store = new CatalogStore(root).open()
  const narrated: string[] = []
  const counted: string[] = []
  const p = createModelProvisioner({
    store,
    policy: OPEN,
    fetch: FETCH,
    narrate: (_f, human) => { narrated.push(human) },
    counter: { inc: (l) => { counted.push(`${l.result}/${l.reason}/${l.engine}`) } },
    env: {},
    ...extra,
  })
  return { p, store, root, narrated, counted }
}
