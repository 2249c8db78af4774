import t from 'tap'
import { RestartPolicy, type BackoffConfig } from '../backoff.js'

const cfg: BackoffConfig = {
  backoff_initial_ms: 1000,
  backoff_factor: 2,
  backoff_max_ms: 60_000,
  jitter: true,
  stable_reset_ms: 300_000,
  breaker_max_restarts: 5,
  breaker_window_ms: 600_000,
  breaker_cooldown_ms: 300_000,
}

t.test('delays grow ×2 from backoff_initial_ms and cap at backoff_max_ms, jitter within [50 %, 100 %] (scenario 17, D5)', async (t) => {
  const low = new RestartPolicy({ ...cfg, breaker_max_restarts: 100 }, () => 0)
  const high = new RestartPolicy({ ...cfg, breaker_max_restarts: 100 }, () => 0.999999)
  const lows: number[] = []
  const highs: number[] = []
  for (let i = 0; i < 8; i++) {
    const a = low.failed(i * 10)
    const b = high.failed(i * 10)
    if (a.kind !== 'retry' || b.kind !== 'retry') throw new Error('breaker opened')
    lows.push(a.delayMs); highs.push(b.delayMs)
    t.equal(a.attempt, i + 1)
  }
  t.same(lows, [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000])
  t.same(highs, [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000])
  const exact = new RestartPolicy({ ...cfg, jitter: false }, () => 0)
  t.match(exact.failed(0), { kind: 'retry', delayMs: 1000 })
})

t.test('the breaker opens at breaker_max_restarts failures inside the window, not for slower failures (scenario 18)', async (t) => {
  const p = new RestartPolicy(cfg, () => 0.5)
  for (let i = 0; i < 4; i++) t.equal(p.failed(i * 1000).kind, 'retry')
  t.same(p.failed(4000), { kind: 'open', cooldownMs: 300_000, failures: 5 })
  const slow = new RestartPolicy(cfg, () => 0.5)
  for (let i = 0; i < 10; i++) t.equal(slow.failed(i * 200_000).kind, 'retry', 'failures spread over more than the window never open it')
  p.reset()
  t.match(p.failed(5000), { kind: 'retry', attempt: 1 }, 'reset after the cooldown starts a fresh window and backoff')
})

t.test('a stable run longer than stable_reset_ms resets the backoff to the initial value (scenario 19)', async (t) => {
  const p = new RestartPolicy({ ...cfg, breaker_max_restarts: 100, jitter: false })
  p.failed(0); p.failed(1); p.failed(2)
  p.healthy(10)
  t.match(p.failed(100), { delayMs: 8000, attempt: 4 }, 'a short run keeps growing')
  p.healthy(1000)
  t.match(p.failed(1000 + 300_000), { delayMs: 1000, attempt: 1 })
  t.equal(p.step(30), 60_000)
})
