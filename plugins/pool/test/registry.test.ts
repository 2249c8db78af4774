import t from 'tap'
import { createPoolRegistry } from '../registry.js'

t.test('a fresh pool releases to 0 and reports 0 leases (spec §6 scenario 1)', async (t) => {
  const r = createPoolRegistry()
  t.equal(r.releaseLease('p'), 0)
  t.equal(r.getActiveLeases('p'), 0)
})

t.test('lease counting follows the reference vector (ORCH-3501/3502, §1.2)', async (t) => {
  const r = createPoolRegistry()
  t.equal(r.getActiveLeases('p'), 0)
  t.same([r.releaseLease('p'), r.allocateLease('p'), r.allocateLease('p'), r.getActiveLeases('p'),
    r.releaseLease('p'), r.releaseLease('p'), r.releaseLease('p')], [0, 1, 2, 2, 1, 0, 0])
})

t.test('leases saturate at int32 max', async (t) => {
  const r = createPoolRegistry()
  r.upsert('p', { active_leases: 2_147_483_647 })
  t.equal(r.allocateLease('p'), 2_147_483_647)
})

t.test('a setter creates the entry with defaults (spec §6 scenario 3)', async (t) => {
  const r = createPoolRegistry()
  t.equal(r.getHealth('p'), undefined)
  t.equal(r.getLastError('p'), undefined)
  r.setLastError('p', 'x')
  t.same(r.getHealth('p'), { live: false, ready: false })
  t.equal(r.getLastError('p'), 'x')
  t.equal(r.get('p')?.state, 'Unready')
})

t.test('health, version and heartbeat round-trip (spec §6 scenario 4)', async (t) => {
  const r = createPoolRegistry()
  r.setHealth('p', { live: true, ready: true })
  r.setVersion('p', 'b5000')
  r.setHeartbeat('p', 1234)
  t.same(r.getHealth('p'), { live: true, ready: true })
  t.equal(r.getVersion('p'), 'b5000')
  t.equal(r.get('p')?.engine_version, 'b5000', 'version and engine_version are one field (D11)')
  t.equal(r.getHeartbeat('p'), 1234)
  t.equal(r.getHeartbeat('q'), undefined)
  t.equal(r.getVersion('q'), undefined)
})

t.test('slots_free is slots_total minus leases, and 0 while not ready or draining', async (t) => {
  const r = createPoolRegistry()
  t.equal(r.slotsFree('nope'), 0)
  r.upsert('p', { slots_total: 2 })
  t.equal(r.slotsFree('p'), 0, 'not ready yet')
  r.setHealth('p', { live: true, ready: true })
  t.equal(r.slotsFree('p'), 2)
  r.allocateLease('p')
  t.equal(r.slotsFree('p'), 1)
  r.allocateLease('p'); r.allocateLease('p')
  t.equal(r.slotsFree('p'), 0, 'never negative')
  r.upsert('p', { draining: true })
  r.releaseLease('p'); r.releaseLease('p')
  t.equal(r.slotsFree('p'), 0, 'draining pools offer no slots')
  t.same(r.list().map((e) => e.pool_id), ['p'])
})
