import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync, utimesSync } from 'node:fs'
import { join } from 'node:path'
import { linuxStartedAt, PidFiles } from '../pidfile.js'
import { buildPools, fastPool, modelDir, waitFor } from './helpers.js'

const gone = Object.assign(new Error('kill ESRCH'), { code: 'ESRCH' })

t.test('record, clear and reap with a fake process table', async (t) => {
  const dir = t.testdir()
  const killed: Array<[number, string | number]> = []
  const table = new Map<number, number>() // pid → start ms
  const pf = new PidFiles(dir, {
    self: 100,
    startedAt: async (pid) => table.get(pid) ?? null,
    kill: (pid, signal) => { if (!table.has(pid)) throw gone; killed.push([pid, signal]) },
  })
  t.equal(await pf.reap('p'), null, 'no file: nothing to do')
  await pf.record('p', 4242)
  t.equal(readFileSync(join(dir, 'p.pid'), 'utf8'), '4242\n', 'the PID file holds the pid alone')
  t.equal(readFileSync(join(dir, 'p.owner'), 'utf8'), '100\n')
  await pf.clear('p', 999)
  t.ok(existsSync(join(dir, 'p.pid')), 'another pid: left alone')
  await pf.clear('p', 4242)
  t.notOk(existsSync(join(dir, 'p.pid')))
  t.notOk(existsSync(join(dir, 'p.owner')))

  // an earlier orchestrator (pid 7) died and left engine 4242 running
  const earlier = new PidFiles(dir, { self: 7 })
  await earlier.record('p', 4242)
  table.set(4242, Date.now())
  t.same(await pf.reap('p'), { pid: 4242, killed: true, reason: 'left running by an earlier run' })
  t.same(killed, [[4242, 'SIGKILL']])
  t.notOk(existsSync(join(dir, 'p.pid')), 'and the files are gone')

  await earlier.record('p', 5151)
  table.set(5151, Date.now() - 3_600_000)
  utimesSync(join(dir, 'p.pid'), new Date(), new Date())
  t.match(await pf.reap('p'), { pid: 5151, killed: false, reason: /another process/ }, 'a pid reused by a process started long before the file')
  await earlier.record('p', 6000)
  t.match(await pf.reap('p'), { pid: 6000, killed: false, reason: /not running/ })

  table.set(7, 0) // the earlier orchestrator is alive after all: another instance on the run dir
  await earlier.record('p', 4242)
  t.match(await pf.reap('p'), { killed: false, reason: 'its orchestrator (pid 7) is still running' })
  t.ok(existsSync(join(dir, 'p.pid')), 'its files stay')
  t.same(killed.filter(([, signal]) => signal === 'SIGKILL'), [[4242, 'SIGKILL']], 'no engine was killed but the orphan')
})

t.test('linuxStartedAt reads a live process and gives null for a gone one', { skip: process.platform !== 'linux' && 'Linux /proc only' }, async (t) => {
  const at = await linuxStartedAt(process.pid)
  t.ok(at !== null && Math.abs(at - (Date.now() - process.uptime() * 1000)) < 5000, 'this process started about when it says')
  t.equal(await linuxStartedAt(2 ** 22 + 12345), null)
})

t.test('the pool manager writes <run_dir>/<pool>.pid and reaps an engine a crashed run left behind (spec pools §2.4)', {
  skip: process.platform !== 'linux' && 'Linux /proc only',
}, async (t) => {
  const root = await modelDir(t, { 'a.json': {} })
  const runDir = t.testdir()
  // an engine whose orchestrator is gone: owner = a process that has already exited
  const orphan = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
  const deadOwner = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
  await new Promise((resolve) => deadOwner.once('exit', resolve))
  const orphanExit = new Promise<NodeJS.Signals | null>((resolve) => orphan.once('exit', (_c, s) => resolve(s)))
  t.teardown(() => { if (orphan.exitCode === null && orphan.signalCode === null) orphan.kill('SIGKILL') })
  writeFileSync(join(runDir, 'p.owner'), `${deadOwner.pid}\n`)
  writeFileSync(join(runDir, 'p.pid'), `${orphan.pid}\n`)

  const { app, capture } = await buildPools(t, [fastPool('p', 'a.json')], root, { manifest: { server: { run_dir: runDir } } })
  t.equal(await orphanExit, 'SIGKILL', 'the orphan was stopped before the pool started')
  t.match(capture.find({ action: 'reap', target: 'p' })[0], { pid: orphan.pid, killed: true })
  await waitFor('Ready', () => app.pool.status('p')?.ready)
  const pid = app.pool.manager('p')!.current!.replica.pid!
  await waitFor('the PID file', () => existsSync(join(runDir, 'p.pid')) && readFileSync(join(runDir, 'p.pid'), 'utf8') === `${pid}\n`)
  t.equal(readFileSync(join(runDir, 'p.owner'), 'utf8'), `${process.pid}\n`)
  await app.close()
  await waitFor('the PID file removed', () => !existsSync(join(runDir, 'p.pid')))
  t.pass('removed when the engine stopped')
})
