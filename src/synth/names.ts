/**
 * Every physical name crosspipe gives, in one place. All derive from `naming.prefix`, so several
 * pipelines can share accounts without colliding; roles carry the region because IAM is global
 * while a target stack is regional (two regions of one account would otherwise create the same
 * role twice). `naming.referenceNames` switches the two target-account roles to the names of the
 * reference system (`cross-account-role`, `cloudformation-role`), one pipeline per account.
 */
import { createHash } from 'node:crypto'
import { QUOTAS } from '../iam/aws-facts.js'
import type { ResolvedPipeline } from '../model/schema.js'

/**
 * IAM role names: up to 64 characters of `[\w+=,.@-]`.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html
 */
export const ROLE_NAME_MAX = QUOTAS.iam.roleNameLength

/** The reference system's fixed role names (DESIGN.md, reference/cross-account-pipeline.txt). */
export const REFERENCE_CROSS_ACCOUNT_ROLE = 'cross-account-role'
/** The reference system's CloudFormation deployment role name. */
export const REFERENCE_DEPLOYMENT_ROLE = 'cloudformation-role'

/**
 * Shortens a name over `max` characters deterministically: a prefix of it plus a hash of the whole
 * name, so two long names that share a beginning stay distinct.
 */
export function fitName(name: string, max: number): string {
  if (name.length <= max) return name
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8)
  return `${name.slice(0, max - hash.length - 1).replace(/-+$/, '')}-${hash}`
}

/** The names of one pipeline's stacks, roles and projects. */
export class Names {
  readonly prefix: string
  readonly reference: boolean

  constructor(p: ResolvedPipeline) {
    this.prefix = p.naming.prefix
    this.reference = p.naming.referenceNames
  }

  /** The CodePipeline pipeline (unique per account and region; 100 characters at most). */
  get pipeline(): string {
    return fitName(this.prefix, 100)
  }
  /** The pipeline's service role in the CI account. */
  get pipelineRole(): string {
    return fitName(`${this.prefix}-pipeline`, ROLE_NAME_MAX)
  }
  /** The build project's service role in the CI account. */
  get buildRole(): string {
    return fitName(`${this.prefix}-build`, ROLE_NAME_MAX)
  }
  /** The build project in the CI account. */
  get buildProject(): string {
    return `${this.prefix}-build`
  }
  /** The role the pipeline assumes in a CodeCommit source account other than CI. */
  get sourceRole(): string {
    return fitName(`${this.prefix}-source`, ROLE_NAME_MAX)
  }
  /** The KMS alias of each region's artifact key (aliases are regional). */
  get keyAlias(): string {
    return `alias/${this.prefix}-artifacts`
  }

  /** The CI base stack of a region: `<prefix>-ci-base` in the CI region, `-<region>` appended elsewhere. */
  ciBaseStack(region: string, ciRegion: string): string {
    return region === ciRegion ? `${this.prefix}-ci-base` : `${this.prefix}-ci-base-${region}`
  }
  /** The stack of a target account and region. */
  targetStack(account: string, region: string): string {
    return `${this.prefix}-target-${account}-${region}`
  }
  /** The stack that holds the CodeCommit source role in another account. */
  get sourceStack(): string {
    return `${this.prefix}-source`
  }
  /** The CI pipeline stack. */
  get pipelineStack(): string {
    return `${this.prefix}-pipeline`
  }

  /** The role the pipeline assumes in a target account and region for every action there. */
  crossAccountRole(region: string): string {
    if (this.reference) return REFERENCE_CROSS_ACCOUNT_ROLE
    return fitName(`${this.prefix}-cross-account-${region}`, ROLE_NAME_MAX)
  }
  /** The role CloudFormation deploys a stage's stack with, in a target account and region. */
  deploymentRole(stage: string, region: string): string {
    if (this.reference) return REFERENCE_DEPLOYMENT_ROLE
    return fitName(`${this.prefix}-${stage}-cfn-${region}`, ROLE_NAME_MAX)
  }
  /** The service role of a stage's test project in a target account and region. */
  testRole(stage: string, region: string): string {
    return fitName(`${this.prefix}-${stage}-test-${region}`, ROLE_NAME_MAX)
  }
  /** A stage's test project (CodeBuild project names are per account and region). */
  testProject(stage: string): string {
    return `${this.prefix}-${stage}-test`
  }
  /** The change set name of a stage's stack (the cross-account role may touch only this one). */
  changeSet(stage: string): string {
    return fitName(`${this.prefix}-${stage}`, QUOTAS.cloudFormation.stackNameLength)
  }
}
