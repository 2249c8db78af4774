import t from 'tap'
import { existsSync, readdirSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { acquireLock, withLock } from '../lock.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

t.test('holders never overlap: 8 concurrent writers take turns (D14 writer lock)', async (t) => {
  const file = join(t.testdir(), '.catalog.lock')
  let inside = 0
  let max = 0
  await Promise.all(Array.from({ length: 8 }, () => withLock(file, {}, async (lock) => {
    inside++; max = Math.max(max, inside)
    t.ok(await lock.stillHeld())
    await sleep(3)
    inside--
  })))
  t.equal(max, 1)
  t.same(readdirSync(join(file, '..')), [], 'nothing left behind')
})

t.test('a lock held by a dead process is broken at once', async (t) => {
  const dir = t.testdir()
  const file = join(dir, '.catalog.lock')
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!
  writeFileSync(`${file}.dead-token`, JSON.stringify({ pid: dead, host: hostname(), token: 'dead-token', acquired_ms: Date.now() }))
  writeFileSync(file, JSON.stringify({ pid: dead, host: hostname(), token: 'dead-token', acquired_ms: Date.now() }))
  const t0 = Date.now()
  const lock = await acquireLock(file, { waitMs: 2000 })
  t.ok(Date.now() - t0 < 1000, 'no waiting for a timeout')
  t.notOk(existsSync(`${file}.dead-token`), "the dead holder's own file is cleaned up")
  await lock.release()
  t.same(readdirSync(dir), [])
})

t.test('a live holder makes others wait, then Busy names it', async (t) => {
  const file = join(t.testdir(), '.catalog.lock')
  const held = await acquireLock(file)
  await t.rejects(acquireLock(file, { waitMs: 60, what: 'the catalog' }), {
    code: 'ORC_ERR_CATALOG_BUSY',
    message: new RegExp(`the catalog is locked by process ${process.pid}`),
  })
  const waiter = acquireLock(file, { waitMs: 2000 })
  await sleep(30)
  await held.release()
  const next = await waiter
  await next.release()
  const ac = new AbortController()
  const again = await acquireLock(file)
  const aborted = acquireLock(file, { signal: ac.signal })
  ac.abort()
  await t.rejects(aborted)
  await again.release()
})

t.test('unreadable and foreign-host lock files go stale by age', async (t) => {
  const file = join(t.testdir(), '.catalog.lock')
  writeFileSync(file, '')
  utimesSync(file, new Date(Date.now() - 5000), new Date(Date.now() - 5000))
  await (await acquireLock(file, { waitMs: 500 })).release()
  writeFileSync(file, JSON.stringify({ pid: 1, host: 'elsewhere', token: 'x', acquired_ms: Date.now() - 120_000 }))
  await (await acquireLock(file, { waitMs: 500 })).release()
  writeFileSync(file, JSON.stringify({ pid: 1, host: 'elsewhere', token: 'x', acquired_ms: Date.now() }))
  await t.rejects(acquireLock(file, { waitMs: 50 }), { code: 'ORC_ERR_CATALOG_BUSY', message: /on elsewhere/ })
})

t.test('stillHeld turns false when the lock was taken over', async (t) => {
  const file = join(t.testdir(), '.catalog.lock')
  const lock = await acquireLock(file)
  unlinkSync(file)
  writeFileSync(file, '{}')
  t.equal(await lock.stillHeld(), false)
  await lock.release()
  t.ok(existsSync(file), "release never removes someone else's lock")
})
