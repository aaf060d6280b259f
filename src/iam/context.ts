/**
 * The request context: keys AWS derives from the request, computed only when a policy asks for
 * them, and overridden or extended by `SimulateRequest.context`.
 *
 * Keys and their values: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
 * kms:CallerAccount, kms:EncryptionContext:<key>, kms:EncryptionContextKeys:
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
 */
import type { Caller } from './principal.js'
import type { ContextValue } from './types.js'

/** Inputs to derivation, besides the overrides. */
export interface ContextInputs {
  readonly caller: Caller
  readonly service: string
  readonly resourceAccount: string | undefined
  readonly resource: string
  readonly principalId?: string | undefined
  readonly now?: Date | undefined
}

const ENCRYPTION_CONTEXT_PREFIX = 'kms:encryptioncontext:'
const EMPTY = new Map<string, ContextValue>()
const normalized = new WeakMap<object, Map<string, ContextValue>>()

/** A request context: lower-case key → value. */
export class RequestContext {
  // Built on first lookup: many requests are decided without reading any context key.
  private given: Map<string, ContextValue> | undefined
  private derived: Map<string, ContextValue | undefined> | undefined
  constructor(
    private readonly inputs: ContextInputs,
    private readonly overrides: Readonly<Record<string, ContextValue>> | undefined,
  ) {}

  private givenMap(): Map<string, ContextValue> {
    if (!this.given) {
      const o = this.overrides
      if (!o) this.given = EMPTY
      else {
        // Request contexts are Readonly and callers reuse them across many evaluations (the
        // sandbox per request, check per call): normalize each object once.
        let m = normalized.get(o)
        if (!m) {
          m = new Map()
          for (const k in o) m.set(k.toLowerCase(), o[k]!)
          normalized.set(o, m)
        }
        this.given = m
      }
    }
    return this.given
  }

  /** The value of a key (lower-case name), given or derived; undefined when absent. */
  get(key: string): ContextValue | undefined {
    const g = this.givenMap().get(key)
    if (g !== undefined) return g
    const derived = (this.derived ??= new Map<string, ContextValue | undefined>())
    if (derived.has(key)) return derived.get(key)
    const d = this.derive(key)
    derived.set(key, d)
    return d
  }

  /** A single-valued lookup for policy variables: lists count as absent. */
  variable(key: string): string | undefined {
    const v = this.get(key)
    return typeof v === 'string' ? v : undefined
  }

  /** Every key of the context (given and derivable), for explanations and tests. */
  snapshot(): Record<string, ContextValue> {
    const out: Record<string, ContextValue> = {}
    for (const k of DERIVABLE) {
      const v = this.get(k)
      if (v !== undefined) out[k] = v
    }
    for (const [k, v] of this.givenMap()) out[k] = v
    return out
  }

  private derive(key: string): ContextValue | undefined {
    const { caller, resourceAccount, service } = this.inputs
    const iam =
      caller.kind !== 'service' && caller.kind !== 'anonymous' && caller.kind !== 'identity-provider'
    switch (key) {
      case 'aws:principalarn':
        // For an assumed-role session, aws:PrincipalArn is the ARN of the role, not the session.
        if (caller.kind === 'session' || caller.kind === 'role') return caller.roleArn
        return iam ? caller.raw : undefined
      case 'aws:principalaccount':
        return iam ? caller.account : undefined
      case 'aws:principaltype':
        // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#principaltable
        switch (caller.kind) {
          case 'root':
            return 'Account'
          case 'user':
            return 'User'
          case 'role':
          case 'session':
            return 'AssumedRole'
          case 'federated-user':
            return 'FederatedUser'
          case 'anonymous':
            return 'Anonymous'
          default:
            return undefined
        }
      case 'aws:username':
        return caller.kind === 'user' ? caller.name : undefined
      case 'aws:userid':
        if (caller.kind === 'root') return caller.account
        if (caller.kind === 'federated-user') return `${caller.account}:${caller.name}`
        if (caller.kind === 'anonymous') return 'anonymous'
        if (!this.inputs.principalId) return undefined
        return caller.kind === 'session'
          ? `${this.inputs.principalId}:${caller.sessionName}`
          : this.inputs.principalId
      case 'aws:principalisawsservice':
        return caller.kind === 'service' ? 'true' : 'false'
      case 'aws:principalservicename':
        return caller.kind === 'service' ? caller.raw : undefined
      case 'aws:resourceaccount':
        return resourceAccount
      case 'aws:currenttime':
        return (this.inputs.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z')
      case 'aws:epochtime':
        return String(Math.floor((this.inputs.now ?? new Date()).getTime() / 1000))
      case 'aws:requestedregion': {
        const region = this.inputs.resource.split(':')[3]
        return region ? region : undefined
      }
      case 'kms:calleraccount':
        return service === 'kms' && iam ? caller.account : undefined
      case 'kms:encryptioncontextkeys': {
        // Derived from the kms:EncryptionContext:<key> pairs the caller supplied.
        const keys: string[] = []
        // Encryption context keys keep their case: only the condition key's name is case-insensitive.
        for (const k in this.overrides ?? {})
          if (k.toLowerCase().startsWith(ENCRYPTION_CONTEXT_PREFIX))
            keys.push(k.slice(ENCRYPTION_CONTEXT_PREFIX.length))
        return keys.length > 0 ? keys : undefined
      }
      default:
        return undefined
    }
  }
}

const DERIVABLE = [
  'aws:principalarn',
  'aws:principalaccount',
  'aws:principaltype',
  'aws:username',
  'aws:userid',
  'aws:principalisawsservice',
  'aws:principalservicename',
  'aws:resourceaccount',
  'aws:currenttime',
  'aws:epochtime',
  'aws:requestedregion',
  'kms:calleraccount',
  'kms:encryptioncontextkeys',
]
