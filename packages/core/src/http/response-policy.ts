import type { ValuePolicy } from '../entity/value-policy.js'

/**
 * What a handler may decide about the response it produces, for its cached route's entity: this
 * response's `ttl`, `grace` and `l1` TTL (durations, as in `ctx.set()` of a loader), or `false`
 * to keep it out of the cache (as `Cache-Control: no-store` does). Tags come from the route's
 * `tags` option, not from here.
 */
export type HttpResponsePolicy = Pick<ValuePolicy, 'ttl' | 'grace' | 'l1'> | false

// Keyed by the object the handler answers on (Node's ServerResponse, Hono's Context), so the
// decision travels with the response to wherever the adapter captures it, internal refreshes
// included, and is never sent to the client.
const policies = new WeakMap<object, HttpResponsePolicy>()

/**
 * Records the handler's policy for the response of `target` (what the adapters' `setCachePolicy`
 * helpers call). A later call replaces an earlier one. Never throws: a bad policy is reported
 * when the response is stored (an `INVALID_CONFIG` logged, the response sent and not cached).
 */
export function setResponsePolicy(target: object, policy: HttpResponsePolicy): void {
  policies.set(target, policy)
}

/** The policy a handler set for the response of `target`, or `undefined`. */
export function responsePolicyOf(target: object): HttpResponsePolicy | undefined {
  return policies.get(target)
}
