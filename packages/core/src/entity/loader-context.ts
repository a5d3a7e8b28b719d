import { TierCacheError } from '../util/errors.js'
import type { EntityCore } from './entity-core.js'
import type { BatchLoaderContext, LoaderContext } from './loader-types.js'
import { ENTITY_POLICY, mergeValuePolicy, type ValueDecision, type ValuePolicy } from './value-policy.js'

/**
 * The context one load of one id hands its loader: it gathers the loader's decisions (validated
 * as they come, never throwing into the loader) until {@link seal}, which the load runner calls
 * once the loader settled, and which returns the decision the value writer applies.
 */
export class LoadContext implements LoaderContext {
  private decision: ValueDecision = ENTITY_POLICY
  private sealed = false

  constructor(
    private readonly core: EntityCore,
    private readonly id: string,
  ) {}

  get policy() {
    return this.core.policy
  }

  set(policy: ValuePolicy): void {
    if (this.late('set')) return
    const current = this.decision
    if (current.kind !== 'cache') return
    try {
      this.decision = mergeValuePolicy(current, policy, 'ctx.set()', { entity: this.core.name, id: this.id })
    } catch (error) {
      this.decision = { kind: 'invalid', error }
    }
  }

  skip(): void {
    if (this.late('skip')) return
    if (this.decision.kind !== 'invalid') this.decision = { kind: 'skip' }
  }

  /** Records a failure of the caller's own policy code (a `wrap` policy hook that threw): the value is not cached. */
  fail(error: unknown): void {
    if (!this.sealed) this.decision = { kind: 'invalid', error }
  }

  /** Ends the load's decisions and returns them; later calls are ignored. */
  seal(): ValueDecision {
    this.sealed = true
    return this.decision
  }

  private late(call: string): boolean {
    if (this.sealed) this.core.log.warn({ id: this.id }, `ctx.${call}() after the loader settled is ignored`)
    return this.sealed
  }
}

/** The context of one batch load: one {@link LoadContext} per id of the batch. */
export class BatchLoadContext implements BatchLoaderContext {
  constructor(
    private readonly core: EntityCore,
    private readonly contexts: ReadonlyMap<string, LoadContext>,
  ) {}

  /** A context for `ids`, one fresh {@link LoadContext} each. */
  static of(core: EntityCore, ids: readonly string[]): BatchLoadContext {
    return new BatchLoadContext(core, new Map(ids.map((id) => [id, new LoadContext(core, id)])))
  }

  get policy() {
    return this.core.policy
  }

  set(id: string, policy: ValuePolicy): void {
    this.contextOf(id, 'set')?.set(policy)
  }

  skip(id: string): void {
    this.contextOf(id, 'skip')?.skip()
  }

  /** The decisions of `ids`, in their order; seals every context. */
  seal(ids: readonly string[]): ValueDecision[] {
    return ids.map((id) => this.contexts.get(id)?.seal() ?? ENTITY_POLICY)
  }

  private contextOf(id: string, call: string): LoadContext | undefined {
    const context = this.contexts.get(id)
    if (context === undefined) {
      const error = new TierCacheError(
        'INVALID_CONFIG',
        `entity "${this.core.name}": ctx.${call}(${JSON.stringify(id)}): not an id of this batch; ignored`,
        { entity: this.core.name, id: typeof id === 'string' ? id : undefined },
      )
      this.core.log.warn({ err: error }, 'batch loader policy for an id it was not asked for')
    }
    return context
  }
}
