/**
 * `@tiercache/testkit/memory`: a real in-memory {@link RemoteStore} and a fault wrapper for any
 * store, for engine tests that run in milliseconds. Needs no Redis and no vitest.
 */
export { type FaultyStore, type FaultySubscription, faultyStore, STORE_METHODS, StoreFaults, type StoreMethod } from './faulty-store.js'
export { MemoryServer, type MemoryServerOptions } from './memory-server.js'
export { MemoryStore, type MemoryStoreOptions, memoryStore } from './memory-store.js'
