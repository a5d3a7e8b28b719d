/**
 * `@tiercache/testkit/helpers`: the small helpers every package's tests share, kept once here so
 * they do not drift. Needs no Redis and no vitest.
 */
export { busRecorder, type HeardOnBus } from './bus-recorder.js'
export { type Deferred, deferred } from './deferred.js'
export { eventually } from './eventually.js'
export { type HeldLoader, heldLoader } from './held-loader.js'
export { type LogRecord, recordingLogger } from './recording-logger.js'
export { rejectionOf } from './rejection-of.js'
export { seeded } from './seeded-random.js'
export { readersAcrossShards, type ShardKillCounts, type ShardReaders } from './shard-kill-readers.js'
export { tierCacheErrorOf } from './thrown-by.js'
export { loopUntilTimerFires } from './timer-turns.js'
