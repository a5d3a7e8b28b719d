// What tests allow for the machines they run on: shared, loaded 2-core CI machines, where other jobs
// take the CPU and a Redis reply or a timer that takes 5 ms on an idle machine can take a second.

/**
 * How long a test waits for something it expects to happen (`vi.waitFor(check, EVENTUALLY)`): a
 * deadline, not a delay. The wait ends as soon as the check holds (polled every 20 ms), so a
 * generous deadline costs nothing when things work; 15 s still fails a wait that never ends well
 * inside the 30 s test timeout.
 */
export const EVENTUALLY = { timeout: 15_000, interval: 20 } as const

/**
 * The `l2Timeout` of caches in tests that assert what L2 answers (a hit, one loader call for the
 * fleet, a lock held): 5 s. The 50 ms default is for production on a LAN; on a loaded test machine a
 * reply can take longer, and a timed-out L2 call is by design a miss, a load or a skipped lock,
 * which such a test would report as a failure of the cache. Tests of timeouts and failover keep 50 ms.
 */
export const TEST_L2_TIMEOUT = '5s'
