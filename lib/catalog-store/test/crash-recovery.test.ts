import t, { type Test } from 'tap'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readdirSync, writeFileSync, unlinkSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CatalogStore } from '../store.js'
import { acquireLock } from '../lock.js'
import { removeLeftovers } from '../leftovers.js'
import type { ModelEntry } from '../entries.js'

const CHILD = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const entry = (id: string): ModelEntry => ({ id, local_path: null, lifecycle: 'Active', digest: null, last_verified_ms: null, created_ms: 1, updated_ms: 1 })
const deadPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid!

/** Starts a crash-writer child and resolves once it printed `ready`. */
async function child (t: Test, mode: string, root: string, ready: string): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [...process.execArgv, CHILD, mode, root], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL') })
  let out = ''
  proc.stdout!.on('data', (d) => { out += String(d) })
  proc.stderr!.on('data', (d) => { out += String(d) })
  const deadline = Date.now() + 30_000
  while (!out.includes(ready)) {
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`crash-writer ${mode} did not get ready: ${out}`)
    await sleep(10)
  }
  return proc
}

const kill = async (p: ChildProcess): Promise<void> => {
  const exited = new Promise((resolve) => p.once('exit', resolve))
  p.kill('SIGKILL')
  await exited
}

const leftovers = (root: string) => readdirSync(root).filter((f) => f !== 'index.json').sort()

t.test('issue 10 #5: after a writer is SIGKILLed mid-write with waiters, the first concurrent writes succeed and nothing is left behind', async (t) => {
  const root = t.testdir()
  await new CatalogStore(root).put(entry('seed'))
  const holder = await child(t, 'hold', root, 'in-write')
  const waiters = [await child(t, 'wait', root, 'waiting'), await child(t, 'wait', root, 'waiting')]
  // waiters first: a waiter outliving the holder would break its lock and take it
  for (const p of [...waiters, holder]) await kill(p)
  const before = leftovers(root)
  t.ok(before.includes('.catalog.lock'), 'the killed writer still holds the lock')
  t.equal(before.filter((f) => /^\.catalog\.lock\.\d+-[0-9a-f]+$/.test(f)).length, 3, 'one lock record per killed process')
  t.equal(before.filter((f) => f.startsWith('.index.json.tmp-')).length, 1, 'the temp copy of the killed write')

  const store = new CatalogStore(root).open()
  const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.put(entry(`after-${i}`))))
  t.same(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)), [], 'no write fails')
  t.same(store.list().map((e) => e.id), ['after-0', 'after-1', 'after-2', 'after-3', 'after-4', 'after-5', 'after-6', 'after-7', 'seed'])
  t.same(leftovers(root), [], 'stale lock records and temp copies are gone')
})

t.test('issue 10 #5: recover() at open clears a killed writer\'s files without a write', async (t) => {
  const root = t.testdir()
  await new CatalogStore(root).put(entry('seed'))
  await kill(await child(t, 'hold', root, 'in-write'))
  t.not(leftovers(root).length, 0)
  const removed = await new CatalogStore(root).open().recover()
  t.match(removed, [/^\.index\.json\.tmp-\d+-[0-9a-f]+$/], 'its temp copy (breaking its lock removed its lock record)')
  t.same(leftovers(root), [])
  t.same(new CatalogStore(root).list().map((e) => e.id), ['seed'], 'the index is the one before the killed write')
})

t.test('issue 10 #5: leftovers of a live process are kept, those of dead ones removed', async (t) => {
  const root = t.testdir()
  const live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
  t.teardown(() => { live.kill('SIGKILL') })
  const dead = deadPid()
  const record = (pid: number, host = hostname()) => JSON.stringify({ pid, host, token: `${pid}-abc`, acquired_ms: Date.now() })
  const files: Record<string, string> = {
    [`.catalog.lock.${live.pid}-aaaaaaaaaaaa`]: record(live.pid!),
    [`.catalog.lock.${dead}-bbbbbbbbbbbb`]: record(dead),
    [`.catalog.lock.${dead}-cccccccccccc`]: record(dead, 'another-host'),
    [`.catalog.lock.${dead}-dddddddddddd`]: '',
    [`.catalog.lock.break-${dead}-eeeeeeeeeeee`]: record(dead),
    '.catalog.lock.guard': record(dead),
    [`.index.json.tmp-${live.pid}-0000aaaa`]: '{}',
    [`.index.json.tmp-${dead}-0000bbbb`]: '{}',
    [`.engines.json.tmp-${dead}-0000cccc`]: '{}',
    [`.other.json.tmp-${dead}-0000dddd`]: '{}',
    'index.json': '{"schema_version":1,"entries":{}}',
  }
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text)
  const removed = await removeLeftovers(root, '.catalog.lock', ['index.json', 'engines.json'])
  t.same(removed.sort(), [
    `.catalog.lock.${dead}-bbbbbbbbbbbb`, `.catalog.lock.${dead}-dddddddddddd`, `.catalog.lock.break-${dead}-eeeeeeeeeeee`, '.catalog.lock.guard',
    `.engines.json.tmp-${dead}-0000cccc`, `.index.json.tmp-${dead}-0000bbbb`,
  ].sort())
  t.same(readdirSync(root).sort(), [
    `.catalog.lock.${dead}-cccccccccccc`, `.catalog.lock.${live.pid}-aaaaaaaaaaaa`, `.index.json.tmp-${live.pid}-0000aaaa`,
    `.other.json.tmp-${dead}-0000dddd`, 'index.json',
  ].sort(), 'a live process\'s files, another host\'s record and files that are not the catalog\'s stay')
})

t.test('issue 10 #5: many acquirers breaking one stale lock at once never hold it together', async (t) => {
  const file = join(t.testdir(), '.catalog.lock')
  const dead = deadPid()
  for (let round = 0; round < 10; round++) {
    writeFileSync(file, JSON.stringify({ pid: dead, host: hostname(), token: `${dead}-x`, acquired_ms: Date.now() }))
    let inside = 0
    let max = 0
    const held: boolean[] = []
    await Promise.all(Array.from({ length: 8 }, async () => {
      const lock = await acquireLock(file, { waitMs: 5000 })
      inside++; max = Math.max(max, inside)
      await sleep(1)
      held.push(await lock.stillHeld())
      inside--
      await lock.release()
    }))
    if (max !== 1 || held.includes(false)) { t.fail(`round ${round}: ${max} holders at once, stillHeld ${held}`); return }
  }
  t.pass('one holder at a time in every round, and each still held the lock at its end')
})

t.test('issue 10 #5: a write whose lock is taken over before its commit is retried inside the call', async (t) => {
  const root = t.testdir()
  let calls = 0
  const store = new CatalogStore(root, {
    beforeRename: () => {
      if (++calls > 1) return
      // another writer (here: a record of a process that is gone by now) replaced the lock
      const lockFile = join(root, '.catalog.lock')
      unlinkSync(lockFile)
      const dead = deadPid()
      writeFileSync(lockFile, JSON.stringify({ pid: dead, host: hostname(), token: `${dead}-y`, acquired_ms: Date.now() }))
    },
  })
  await store.put(entry('m'))
  t.equal(calls, 2, 'one retry')
  t.same(new CatalogStore(root).list().map((e) => e.id), ['m'])
})
