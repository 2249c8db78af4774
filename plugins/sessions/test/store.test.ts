import t from 'tap'
import { fakeClock } from '../../../lib/clock.js'
import { createSessionStore } from '../store.js'

t.test('sessions: reservations, settlement, release, refusals per budget', async (t) => {
  const clock = fakeClock(0)
  const store = createSessionStore({ ttl_ms: 1000, max_turns: 2, budgets: { tokens: 10, time_ms: 100, cost: 1 } }, clock)
  const s = store.prospective('s')
  t.equal(store.size, 0, 'prospective sessions are not stored')
  const r = { tokens: 4, time_ms: 0, cost: 0.4 }
  t.equal(store.refusal(s, r), undefined)
  store.commit(s, r)
  t.same(store.info(s), {
    ttl_ms_remaining: 1000,
    turns: 1,
    kv_bytes: 0,
    kv_warmth: false,
    tokens_budget_remaining: 6,
    time_budget_remaining_ms: 100,
    cost_budget_remaining: 0.6,
  })
  store.settle('s', r, { tokens: 1, time_ms: 150, cost: 0.1 })
  t.match(store.info(s), { tokens_budget_remaining: 9, time_budget_remaining_ms: -50, cost_budget_remaining: 0.9 })
  t.match(store.refusal(s, r), /time budget is spent/)
  store.release('s', { tokens: 0, time_ms: 100, cost: 0 })
  t.match(store.refusal(s, { tokens: 1, time_ms: 0, cost: 5 }), /cost budget/)
  store.commit(s, { tokens: 0, time_ms: 0, cost: 0 })
  t.match(store.refusal(s, r), /used its 2 turns/)
  t.same(store.headers(s), { 'x-budget-tokens-remaining': '9', 'x-budget-time-remaining-ms': '50', 'x-budget-cost-remaining': '0.9' })
  clock.advance(500)
  store.touch('s')
  t.equal(store.info(s).ttl_ms_remaining, 1000)
  clock.advance(1000)
  store.settle('s', r, r)
  store.release('s', r)
  store.touch('s')
  t.equal(store.get('s'), undefined, 'expired on access')
  const open = createSessionStore({ ttl_ms: 10, max_turns: 8, budgets: {} }, clock)
  const o = open.prospective('o')
  open.commit(o, r)
  t.same(open.headers(o), {}, 'unconfigured budgets are never reported (D9)')
  t.same(Object.keys(open.info(o)).sort(), ['kv_bytes', 'kv_warmth', 'ttl_ms_remaining', 'turns'])
  clock.advance(10)
  t.equal(open.sweep(), 1)
})
