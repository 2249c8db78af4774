import t, { type Test } from 'tap'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { download } from '../download.js'
import { listRepo } from '../hf.js'
import { OPEN } from './helpers.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => void

async function server (t: Test, handler: Handler): Promise<string> {
  const s = createServer(handler)
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { s.closeAllConnections(); s.close(() => resolve()) }))
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`
}

const hex = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex')

t.test('416 on a complete partial file finishes without a body; a 416 on a wrong one restarts', async (t) => {
  const data = Buffer.from('0123456789')
  let mode: 'complete' | 'short' = 'complete'
  const url = await server(t, (req, res) => {
    if (req.headers.range === 'bytes=10-' && mode === 'complete') { res.writeHead(416, { 'content-range': 'bytes */10' }).end(); return }
    if (req.headers.range === 'bytes=4-' && mode === 'short') { res.writeHead(416, { 'content-range': 'bytes */99' }).end(); return }
    res.writeHead(200, { 'content-length': data.length }).end(data)
  })
  const dir = t.testdir()
  const part = join(dir, 'f.part')
  writeFileSync(part, data)
  writeFileSync(`${part}.json`, JSON.stringify({ url: `${url}/f`, validator: null }))
  const done = await download({ url: `${url}/f`, part, policy: OPEN, what: 'x' })
  t.same(done, { hex: hex(data), size: 10, claimedSha256: null, resumedFrom: 10 })
  t.notOk(existsSync(`${part}.json`), 'the resume note is removed once complete')
  mode = 'short'
  writeFileSync(part, '0123')
  writeFileSync(`${part}.json`, JSON.stringify({ url: `${url}/f`, validator: '"v"' }))
  const again = await download({ url: `${url}/f`, part, policy: OPEN, what: 'x' })
  t.equal(again.hex, hex(data))
  t.equal(readFileSync(part, 'utf8'), '0123456789')
  writeFileSync(part, 'stale bytes from another URL')
  writeFileSync(`${part}.json`, JSON.stringify({ url: 'http://elsewhere/x', validator: null }))
  t.equal((await download({ url: `${url}/f`, part, policy: OPEN, what: 'x' })).resumedFrom, 0, 'a partial file of another URL is discarded')
})

t.test('a 206 at the wrong offset restarts; redirects are policed and bounded; statuses map to errors', async (t) => {
  let hits = 0
  const url = await server(t, (req, res) => {
    const path = req.url ?? ''
    if (path === '/wrong-range') {
      hits++
      if (req.headers.range) { res.writeHead(206, { 'content-range': 'bytes 0-3/4' }).end('abcd'); return }
      res.writeHead(200, { 'content-length': 4 }).end('abcd')
      return
    }
    if (path === '/loop') { res.writeHead(302, { location: '/loop' }).end(); return }
    if (path === '/away') { res.writeHead(301, { location: 'http://not-allowed.example/x' }).end(); return }
    if (path === '/forbidden') { res.writeHead(403).end(); return }
    if (path === '/broken') { res.writeHead(500).end(); return }
    if (path === '/short') {
      res.writeHead(200, { 'content-length': 100 })
      res.write('only a bit')
      setTimeout(() => res.socket?.end(), 5) // a FIN, not a reset: a reset may discard bytes the client has not read yet
      return
    }
    if (path === '/chunked') { res.writeHead(200); res.end('no length'); return }
    res.writeHead(404).end()
  })
  const dir = t.testdir()
  const part = join(dir, 'p')
  writeFileSync(part, 'ab')
  writeFileSync(`${part}.json`, JSON.stringify({ url: `${url}/wrong-range`, validator: null }))
  t.equal((await download({ url: `${url}/wrong-range`, part, policy: OPEN, what: 'x' })).hex, hex('abcd'))
  t.equal(hits, 2, 'asked again from zero')
  await t.rejects(download({ url: `${url}/loop`, part: join(dir, 'l'), policy: OPEN, what: 'x' }), { code: 'ORC_ERR_MODEL_FETCH_FAILED', message: /more than 10 redirects/ })
  await t.rejects(download({ url: `${url}/away`, part: join(dir, 'a'), policy: { allow_outbound_network: true, outbound_allowlist: ['127.0.0.1'] }, what: 'x' }), { code: 'ORC_ERR_MODEL_POLICY_DENIED', message: /not-allowed\.example/ })
  await t.rejects(download({ url: `${url}/forbidden`, part: join(dir, 'f'), policy: OPEN, what: 'x' }), { message: /answered 403 \(gated or private\? set HF_TOKEN/ })
  await t.rejects(download({ url: `${url}/broken`, part: join(dir, 'b'), policy: OPEN, what: 'x' }), { code: 'ORC_ERR_MODEL_FETCH_FAILED', message: /answered 500/ })
  await t.rejects(download({ url: `${url}/short`, part: join(dir, 's'), policy: OPEN, what: 'x' }), { code: 'ORC_ERR_MODEL_FETCH_FAILED', message: /next pull resumes/ })
  t.equal(readFileSync(join(dir, 's'), 'utf8'), 'only a bit', 'what arrived before the break is kept')
  const chunked = await download({ url: `${url}/chunked`, part: join(dir, 'c'), policy: OPEN, what: 'x', headers: { 'user-agent': 'llama-orch' } })
  t.equal(chunked.size, 9)
})

t.test('hub listing errors: unreachable, 5xx, unsafe names', async (t) => {
  const url = await server(t, (req, res) => {
    if (req.url?.includes('/bad/')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ siblings: [{ rfilename: '../../etc/passwd' }] }))
      return
    }
    res.writeHead(503).end()
  })
  const base = { org: 'o', revision: 'main', policy: OPEN, what: 'hf:o/x' }
  await t.rejects(listRepo({ ...base, endpoint: url, repo: 'down' }), { code: 'ORC_ERR_MODEL_FETCH_FAILED', message: /answered 503/ })
  await t.rejects(listRepo({ ...base, endpoint: url, repo: 'bad' }), { code: 'ORC_ERR_MODEL_FETCH_FAILED', message: /unsafe file name/ })
  await t.rejects(listRepo({ ...base, endpoint: 'http://127.0.0.1:1', repo: 'x' }), { code: 'ORC_ERR_MODEL_FETCH_FAILED', message: /could not be reached/ })
})
