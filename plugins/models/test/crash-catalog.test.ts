import t from 'tap'
import { budget, catalogIsSound, sleep, waitFor, worker } from './crash-helpers.js'

t.test('SIGKILL during catalog writes, many times: the index always parses and lists only complete files', async (t) => {
  const root = t.testdir()
  let lastCount = 0
  const start = Date.now()
  let i = 0
  for (; budget(start, i, 15_000); i++) {
    const w = worker(t, ['write', root, '100000'])
    t.ok(await waitFor(w, /put \d+/), 'the writer gets the lock even after its predecessor was killed holding it')
    await sleep(Math.random() * 40)
    w.proc.kill('SIGKILL')
    await w.exited
    const ids = catalogIsSound(t, root)
    t.ok(ids.length >= lastCount, 'nothing written earlier is lost')
    lastCount = ids.length
  }
  t.comment(`${i} kills, ${lastCount} entries survived`)
  const tail = worker(t, ['write', root, '3'])
  t.equal(await tail.exited, 0, 'a writer after all those kills still succeeds')
  t.equal(catalogIsSound(t, root).length, lastCount + 3)
})

t.test('two processes registering concurrently: every entry of both is present (D14 writer lock)', async (t) => {
  const root = t.testdir()
  const [a, b] = [worker(t, ['write', root, '25']), worker(t, ['write', root, '25'])]
  t.same(await Promise.all([a.exited, b.exited]), [0, 0], `${a.out()}${b.out()}`)
  const ids = catalogIsSound(t, root)
  t.equal(ids.length, 50)
  t.equal(new Set(ids.map((id) => id.split('-')[1])).size, 2, 'entries from both processes')
})
