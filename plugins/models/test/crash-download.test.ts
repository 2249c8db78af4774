import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { hub } from './helpers.js'
import { budget, catalogIsSound, sha, sleep, waitFor, worker } from './crash-helpers.js'

t.test('SIGKILL in the middle of downloads, many times: never an incomplete model listed; the restarted pull resumes', async (t) => {
  const h = await hub(t, { rate: 3_000_000 })
  const data = Buffer.alloc(6_000_000)
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 12)) & 0xff
  const digest = h.put('plain', 'model.gguf', data)
  const url = `${h.url}/plain/model.gguf`
  const root = t.testdir()
  const start = Date.now()
  let i = 0
  let finished = false
  for (; budget(start, i, 10_000); i++) {
    const w = worker(t, ['pull', root, url, digest])
    if (!await waitFor(w, /bytes \d+|done/)) break
    if (/done/.test(w.out())) { finished = true; break }
    await sleep(150 + Math.random() * 250)
    w.proc.kill('SIGKILL')
    await w.exited
    if (/done/.test(w.out())) { finished = true; break }
    t.same(catalogIsSound(t, root), [], 'no entry while the file is incomplete')
  }
  const resumed = h.requests.filter((r) => r.range !== undefined)
  t.ok(resumed.length > 0, `later runs asked for the rest with Range (${resumed.map((r) => r.range).join(', ')})`)
  if (!finished) {
    const last = worker(t, ['pull', root, url, digest])
    t.equal(await last.exited, 0, last.out())
  }
  t.same(catalogIsSound(t, root), [url])
  const entry = JSON.parse(readFileSync(join(root, 'index.json'), 'utf8')).entries[url]
  t.equal(sha(readFileSync(entry.local_path)), digest)
  t.comment(`${i} kills before completion; ranges: ${resumed.length}`)
})
