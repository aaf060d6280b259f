/**
 * IAM over awsQuery: roles, inline and managed policies, users and access keys. Behaviour and
 * citations in SPEC.md. IAM is global: every action works on the caller's own account.
 */
import { awsManagedPolicyArn, formatArn } from '../../../iam/arn.js'
import { XML_NAMESPACES } from '../../../iam/aws-facts.js'
import { authorize } from '../../auth/authorize.js'
import { AwsError } from '../../gateway/errors.js'
import type { CredentialRecord } from '../../auth/identity.js'
import type { XmlObject } from '../../gateway/xml.js'
import { secretKey, uniqueId } from '../../ids.js'
import type { Runtime } from '../../runtime.js'
import { checkPattern, memberList, optional, optionalInt, required, tagList } from '../query-params.js'
import type { QueryParams, QueryService, RequestContext } from '../types.js'
import { deleteConflict, entityAlreadyExists, invalidInput, limitExceeded, noSuchEntity } from './errors.js'
import { checkPolicyText } from './policy-text.js'
import { awsManagedPolicies, awsManagedPolicy } from '../../../iam/index.js'
import type { ManagedPolicyRecord, RoleRecord, Tag, UserRecord } from './store.js'

const NAME = /^[\w+=,.@-]+$/
const PATH = /^(\/|\/[\u0021-\u007E]+\/)$/

/** IAM returns policy documents URL-encoded (RFC 3986): https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRolePolicy.html */
function encodeDoc(text: string): string {
  return encodeURIComponent(text)
}

function tagsXml(tags: readonly Tag[]): XmlObject | undefined {
  return tags.length ? { member: tags.map((t) => ({ Key: t.Key, Value: t.Value })) } : undefined
}

function roleXml(r: RoleRecord): XmlObject {
  return {
    Path: r.path,
    RoleName: r.name,
    RoleId: r.roleId,
    Arn: r.arn,
    CreateDate: r.created,
    AssumeRolePolicyDocument: encodeDoc(r.assumeRolePolicy),
    Description: r.description,
    MaxSessionDuration: r.maxSessionDuration,
    Tags: tagsXml(r.tags),
  }
}

function userXml(u: UserRecord): XmlObject {
  return {
    Path: u.path,
    UserName: u.name,
    UserId: u.userId,
    Arn: u.arn,
    CreateDate: u.created,
    Tags: tagsXml(u.tags),
  }
}

function policyXml(p: ManagedPolicyRecord): XmlObject {
  return {
    PolicyName: p.name,
    PolicyId: p.policyId,
    Arn: p.arn,
    Path: p.path,
    DefaultVersionId: p.defaultVersionId,
    AttachmentCount: p.attachmentCount,
    PermissionsBoundaryUsageCount: 0,
    IsAttachable: true,
    Description: p.description,
    CreateDate: p.created,
    UpdateDate: p.updated,
    Tags: tagsXml(p.tags),
  }
}

/** Marker/MaxItems paging over a sorted list (https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRoles.html). */
function page<T>(p: QueryParams, items: readonly T[]): { items: T[]; IsTruncated: boolean; Marker?: string } {
  const max = optionalInt(p, 'MaxItems', 1, 1000) ?? 100
  const marker = optional(p, 'Marker')
  const start = marker ? Number(Buffer.from(marker, 'base64url').toString('utf8')) || 0 : 0
  const slice = items.slice(start, start + max)
  const truncated = start + max < items.length
  return {
    items: slice,
    IsTruncated: truncated,
    Marker: truncated ? Buffer.from(String(start + max)).toString('base64url') : undefined,
  }
}

function nameParam(p: QueryParams, param: string): string {
  const v = required(p, param)
  checkPattern(param, v, NAME, 1, param === 'RoleName' || param === 'UserName' ? 64 : 128)
  return v
}

function pathParam(p: QueryParams): string {
  const v = optional(p, 'Path') ?? '/'
  checkPattern('Path', v, PATH, 1, 512)
  return v
}

/** The IAM service. */
export function iamService(runtime: Runtime): QueryService {
  const store = runtime.iam
  const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
  const arnOf = (ctx: RequestContext, resource: string): string =>
    formatArn({ partition: ctx.partition, service: 'iam', account: ctx.identity.account, resource })
  const allow = (ctx: RequestContext, action: string, resource: string): void =>
    authorize(ctx, { action: `iam:${action}`, resource, resourceAccount: ctx.identity.account }, 'query')

  const getRole = (ctx: RequestContext, name: string): RoleRecord => {
    const r = store.role(ctx.identity.account, name)
    if (!r) throw noSuchEntity(`The role with name ${name} cannot be found.`)
    return r
  }
  const getUser = (ctx: RequestContext, name: string): UserRecord => {
    const u = store.user(ctx.identity.account, name)
    if (!u) throw noSuchEntity(`The user with name ${name} cannot be found.`)
    return u
  }
  const getPolicy = (ctx: RequestContext, arn: string): ManagedPolicyRecord => {
    const pol = store.policyByArn(arn)
    const visible = awsManagedPolicy(arn) !== undefined || arn.includes(`::${ctx.identity.account}:`)
    if (!pol || !visible) throw noSuchEntity(`Policy ${arn} does not exist or is not attachable.`)
    return pol
  }
  /** AWS managed policies belong to AWS: no account may change them. */
  const ownPolicy = (ctx: RequestContext, action: string, arn: string): ManagedPolicyRecord => {
    const pol = getPolicy(ctx, arn)
    if (awsManagedPolicy(arn))
      throw new AwsError(
        'AccessDenied',
        `User: ${ctx.identity.arn} is not authorized to perform: iam:${action} on resource: policy ${arn}`,
        403,
      )
    return pol
  }
  const roleArnFor = (ctx: RequestContext, name: string): string =>
    store.role(ctx.identity.account, name)?.arn ?? arnOf(ctx, `role/${name}`)
  const userArnFor = (ctx: RequestContext, name: string): string =>
    store.user(ctx.identity.account, name)?.arn ?? arnOf(ctx, `user/${name}`)

  // Shared by roles and users: inline policies and managed-policy attachments.
  function inlineActions(kind: 'Role' | 'User') {
    const table = kind === 'Role' ? store.rolePolicies : store.userPolicies
    const get = kind === 'Role' ? getRole : getUser
    const arnFor = kind === 'Role' ? roleArnFor : userArnFor
    const nameKey = `${kind}Name`
    return {
      [`Put${kind}Policy`]: (p: QueryParams, ctx: RequestContext) => {
        const owner = nameParam(p, nameKey)
        const policyName = nameParam(p, 'PolicyName')
        const text = required(p, 'PolicyDocument')
        allow(ctx, `Put${kind}Policy`, arnFor(ctx, owner))
        const rec = get(ctx, owner)
        checkPolicyText(text, 'identity')
        table.put(ctx.identity.account, `${rec.name.toLowerCase()}/${policyName}`, {
          name: policyName,
          document: text,
        })
        return undefined
      },
      [`Get${kind}Policy`]: (p: QueryParams, ctx: RequestContext) => {
        const owner = nameParam(p, nameKey)
        const policyName = nameParam(p, 'PolicyName')
        allow(ctx, `Get${kind}Policy`, arnFor(ctx, owner))
        const rec = get(ctx, owner)
        const pol = table.get(ctx.identity.account, `${rec.name.toLowerCase()}/${policyName}`)
        if (!pol)
          throw noSuchEntity(`The ${kind.toLowerCase()} policy with name ${policyName} cannot be found.`)
        return { [nameKey]: rec.name, PolicyName: pol.name, PolicyDocument: encodeDoc(pol.document) }
      },
      [`Delete${kind}Policy`]: (p: QueryParams, ctx: RequestContext) => {
        const owner = nameParam(p, nameKey)
        const policyName = nameParam(p, 'PolicyName')
        allow(ctx, `Delete${kind}Policy`, arnFor(ctx, owner))
        const rec = get(ctx, owner)
        if (!table.delete(ctx.identity.account, `${rec.name.toLowerCase()}/${policyName}`))
          throw noSuchEntity(`The ${kind.toLowerCase()} policy with name ${policyName} cannot be found.`)
        return undefined
      },
      [`List${kind}Policies`]: (p: QueryParams, ctx: RequestContext) => {
        const owner = nameParam(p, nameKey)
        allow(ctx, `List${kind}Policies`, arnFor(ctx, owner))
        const rec = get(ctx, owner)
        const names = table.list(ctx.identity.account, rec.name.toLowerCase() + '/').map((x) => x.value.name)
        const pg = page(p, names)
        return { PolicyNames: { member: pg.items }, IsTruncated: pg.IsTruncated, Marker: pg.Marker }
      },
      [`Attach${kind}Policy`]: (p: QueryParams, ctx: RequestContext) => {
        const owner = nameParam(p, nameKey)
        const policyArn = required(p, 'PolicyArn')
        allow(ctx, `Attach${kind}Policy`, arnFor(ctx, owner))
        const rec = get(ctx, owner)
        const pol = getPolicy(ctx, policyArn)
        if (!rec.attached.includes(pol.arn)) {
          runtime.db.transaction(() => {
            rec.attached.push(pol.arn)
            pol.attachmentCount++
            if (kind === 'Role')
              store.roles.put(ctx.identity.account, rec.name.toLowerCase(), rec as RoleRecord)
            else store.users.put(ctx.identity.account, rec.name.toLowerCase(), rec as UserRecord)
            store.policies.put(ctx.identity.account, pol.name.toLowerCase(), pol)
          })()
        }
        return undefined
      },
      [`Detach${kind}Policy`]: (p: QueryParams, ctx: RequestContext) => {
        const owner = nameParam(p, nameKey)
        const policyArn = required(p, 'PolicyArn')
        allow(ctx, `Detach${kind}Policy`, arnFor(ctx, owner))
        const rec = get(ctx, owner)
        if (!rec.attached.includes(policyArn)) throw noSuchEntity(`Policy ${policyArn} was not found.`)
        runtime.db.transaction(() => {
          rec.attached = rec.attached.filter((a) => a !== policyArn)
          if (kind === 'Role')
            store.roles.put(ctx.identity.account, rec.name.toLowerCase(), rec as RoleRecord)
          else store.users.put(ctx.identity.account, rec.name.toLowerCase(), rec as UserRecord)
          const pol = store.policyByArn(policyArn)
          if (pol && !awsManagedPolicy(policyArn)) {
            pol.attachmentCount = Math.max(0, pol.attachmentCount - 1)
            store.policies.put(ctx.identity.account, pol.name.toLowerCase(), pol)
          }
        })()
        return undefined
      },
      [`ListAttached${kind}Policies`]: (p: QueryParams, ctx: RequestContext) => {
        const owner = nameParam(p, nameKey)
        allow(ctx, `ListAttached${kind}Policies`, arnFor(ctx, owner))
        const rec = get(ctx, owner)
        const pg = page(p, rec.attached)
        return {
          AttachedPolicies: {
            member: pg.items.map((arn) => ({ PolicyName: arn.split('/').pop(), PolicyArn: arn })),
          },
          IsTruncated: pg.IsTruncated,
          Marker: pg.Marker,
        }
      },
    }
  }

  function saveRole(ctx: RequestContext, r: RoleRecord): void {
    store.roles.put(ctx.identity.account, r.name.toLowerCase(), r)
  }

  return {
    name: 'iam',
    signingName: 'iam',
    protocol: 'query',
    xmlNamespace: XML_NAMESPACES.iam,
    apiVersion: '2010-05-08',
    global: true,
    actions: {
      CreateRole: (p, ctx) => {
        const name = nameParam(p, 'RoleName')
        const path = pathParam(p)
        const trust = required(p, 'AssumeRolePolicyDocument')
        const description = optional(p, 'Description')
        const maxSession = optionalInt(p, 'MaxSessionDuration', 3600, 43200) ?? 3600
        const tags = tagList(p)
        const arn = arnOf(ctx, `role${path}${name}`)
        allow(ctx, 'CreateRole', arn)
        if (store.role(ctx.identity.account, name))
          throw entityAlreadyExists(`Role with name ${name} already exists.`)
        checkPolicyText(trust, 'trust')
        const r: RoleRecord = {
          name,
          path,
          roleId: uniqueId('AROA'),
          arn,
          created: now(),
          assumeRolePolicy: trust,
          description,
          maxSessionDuration: maxSession,
          tags,
          attached: [],
        }
        saveRole(ctx, r)
        return { Role: roleXml(r) }
      },
      GetRole: (p, ctx) => {
        const name = nameParam(p, 'RoleName')
        allow(ctx, 'GetRole', roleArnFor(ctx, name))
        const r = getRole(ctx, name)
        // GetRole (not ListRoles) tells when the role was last used; empty when never
        // (https://docs.aws.amazon.com/IAM/latest/APIReference/API_RoleLastUsed.html).
        return {
          Role: {
            ...roleXml(r),
            RoleLastUsed: r.lastUsed ? { LastUsedDate: r.lastUsed.date, Region: r.lastUsed.region } : {},
          },
        }
      },
      ListRoles: (p, ctx) => {
        allow(ctx, 'ListRoles', '*')
        const prefix = optional(p, 'PathPrefix') ?? '/'
        const roles = store.roles
          .list(ctx.identity.account)
          .map((x) => x.value)
          .filter((r) => r.path.startsWith(prefix))
        const pg = page(p, roles)
        return { Roles: { member: pg.items.map(roleXml) }, IsTruncated: pg.IsTruncated, Marker: pg.Marker }
      },
      UpdateRole: (p, ctx) => {
        const name = nameParam(p, 'RoleName')
        allow(ctx, 'UpdateRole', roleArnFor(ctx, name))
        const r = getRole(ctx, name)
        const description = optional(p, 'Description')
        const maxSession = optionalInt(p, 'MaxSessionDuration', 3600, 43200)
        if (description !== undefined) r.description = description
        if (maxSession !== undefined) r.maxSessionDuration = maxSession
        saveRole(ctx, r)
        return {}
      },
      UpdateAssumeRolePolicy: (p, ctx) => {
        const name = nameParam(p, 'RoleName')
        const text = required(p, 'PolicyDocument')
        allow(ctx, 'UpdateAssumeRolePolicy', roleArnFor(ctx, name))
        const r = getRole(ctx, name)
        checkPolicyText(text, 'trust')
        r.assumeRolePolicy = text
        saveRole(ctx, r)
        return undefined
      },
      DeleteRole: (p, ctx) => {
        const name = nameParam(p, 'RoleName')
        allow(ctx, 'DeleteRole', roleArnFor(ctx, name))
        const r = getRole(ctx, name)
        if (store.rolePolicies.list(ctx.identity.account, r.name.toLowerCase() + '/').length)
          throw deleteConflict('Cannot delete entity, must delete policies first.')
        if (r.attached.length) throw deleteConflict('Cannot delete entity, must detach all policies first.')
        store.roles.delete(ctx.identity.account, r.name.toLowerCase())
        return undefined
      },
      TagRole: (p, ctx) => {
        const name = nameParam(p, 'RoleName')
        allow(ctx, 'TagRole', roleArnFor(ctx, name))
        const r = getRole(ctx, name)
        const tags = tagList(p)
        r.tags = [...r.tags.filter((t) => !tags.some((n) => n.Key === t.Key)), ...tags]
        if (r.tags.length > 50) throw limitExceeded('The number of tags has reached the maximum limit.')
        saveRole(ctx, r)
        return undefined
      },
      UntagRole: (p, ctx) => {
        const name = nameParam(p, 'RoleName')
        allow(ctx, 'UntagRole', roleArnFor(ctx, name))
        const r = getRole(ctx, name)
        const keys = memberList(p, 'TagKeys')
        r.tags = r.tags.filter((t) => !keys.includes(t.Key))
        saveRole(ctx, r)
        return undefined
      },
      ListRoleTags: (p, ctx) => {
        const name = nameParam(p, 'RoleName')
        allow(ctx, 'ListRoleTags', roleArnFor(ctx, name))
        const r = getRole(ctx, name)
        return { Tags: { member: r.tags.map((t) => ({ Key: t.Key, Value: t.Value })) }, IsTruncated: false }
      },
      ...inlineActions('Role'),
      ...inlineActions('User'),

      CreatePolicy: (p, ctx) => {
        const name = nameParam(p, 'PolicyName')
        const path = pathParam(p)
        const text = required(p, 'PolicyDocument')
        const arn = arnOf(ctx, `policy${path}${name}`)
        allow(ctx, 'CreatePolicy', arn)
        if (store.policies.get(ctx.identity.account, name.toLowerCase()))
          throw entityAlreadyExists(
            `A policy called ${name} already exists. Duplicate names are not allowed.`,
          )
        checkPolicyText(text, 'identity')
        const t = now()
        const pol: ManagedPolicyRecord = {
          name,
          path,
          policyId: uniqueId('ANPA'),
          arn,
          created: t,
          updated: t,
          description: optional(p, 'Description'),
          defaultVersionId: 'v1',
          versions: [{ versionId: 'v1', document: text, created: t }],
          nextVersion: 2,
          attachmentCount: 0,
          tags: tagList(p),
        }
        store.policies.put(ctx.identity.account, name.toLowerCase(), pol)
        return { Policy: policyXml(pol) }
      },
      GetPolicy: (p, ctx) => {
        const arn = required(p, 'PolicyArn')
        allow(ctx, 'GetPolicy', arn)
        return { Policy: policyXml(getPolicy(ctx, arn)) }
      },
      ListPolicies: (p, ctx) => {
        allow(ctx, 'ListPolicies', '*')
        const scope = optional(p, 'Scope') ?? 'All'
        if (!['All', 'AWS', 'Local'].includes(scope)) throw invalidInput(`Invalid Scope: ${scope}`)
        const onlyAttached = optional(p, 'OnlyAttached') === 'true'
        const prefix = optional(p, 'PathPrefix') ?? '/'
        const awsOnes = onlyAttached
          ? []
          : awsManagedPolicies()
              .filter((x) => x.path.startsWith(prefix))
              .map((x) => store.policyByArn(awsManagedPolicyArn(ctx.partition, x.name, x.path))!)
        const local = store.policies
          .list(ctx.identity.account)
          .map((x) => x.value)
          .filter((x) => x.path.startsWith(prefix) && (!onlyAttached || x.attachmentCount > 0))
        const all = scope === 'AWS' ? awsOnes : scope === 'Local' ? local : [...awsOnes, ...local]
        const pg = page(p, all)
        return {
          Policies: { member: pg.items.map(policyXml) },
          IsTruncated: pg.IsTruncated,
          Marker: pg.Marker,
        }
      },
      GetPolicyVersion: (p, ctx) => {
        const arn = required(p, 'PolicyArn')
        const versionId = required(p, 'VersionId')
        allow(ctx, 'GetPolicyVersion', arn)
        const pol = getPolicy(ctx, arn)
        const v = pol.versions.find((x) => x.versionId === versionId)
        if (!v) throw noSuchEntity(`Policy ${arn} version ${versionId} does not exist or is not attachable.`)
        return {
          PolicyVersion: {
            Document: encodeDoc(v.document),
            VersionId: v.versionId,
            IsDefaultVersion: v.versionId === pol.defaultVersionId,
            CreateDate: v.created,
          },
        }
      },
      ListPolicyVersions: (p, ctx) => {
        const arn = required(p, 'PolicyArn')
        allow(ctx, 'ListPolicyVersions', arn)
        const pol = getPolicy(ctx, arn)
        return {
          Versions: {
            member: [...pol.versions].reverse().map((v) => ({
              VersionId: v.versionId,
              IsDefaultVersion: v.versionId === pol.defaultVersionId,
              CreateDate: v.created,
            })),
          },
          IsTruncated: false,
        }
      },
      CreatePolicyVersion: (p, ctx) => {
        const arn = required(p, 'PolicyArn')
        const text = required(p, 'PolicyDocument')
        allow(ctx, 'CreatePolicyVersion', arn)
        const pol = ownPolicy(ctx, 'CreatePolicyVersion', arn)
        checkPolicyText(text, 'identity')
        if (pol.versions.length >= 5)
          throw limitExceeded(
            'A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.',
          )
        const v = { versionId: `v${pol.nextVersion}`, document: text, created: now() }
        pol.nextVersion++
        pol.versions.push(v)
        if (optional(p, 'SetAsDefault') === 'true') pol.defaultVersionId = v.versionId
        pol.updated = v.created
        store.policies.put(ctx.identity.account, pol.name.toLowerCase(), pol)
        return {
          PolicyVersion: {
            VersionId: v.versionId,
            IsDefaultVersion: v.versionId === pol.defaultVersionId,
            CreateDate: v.created,
          },
        }
      },
      SetDefaultPolicyVersion: (p, ctx) => {
        const arn = required(p, 'PolicyArn')
        const versionId = required(p, 'VersionId')
        allow(ctx, 'SetDefaultPolicyVersion', arn)
        const pol = ownPolicy(ctx, 'SetDefaultPolicyVersion', arn)
        if (!pol.versions.some((v) => v.versionId === versionId))
          throw noSuchEntity(`Policy ${arn} version ${versionId} does not exist or is not attachable.`)
        pol.defaultVersionId = versionId
        store.policies.put(ctx.identity.account, pol.name.toLowerCase(), pol)
        return undefined
      },
      DeletePolicyVersion: (p, ctx) => {
        const arn = required(p, 'PolicyArn')
        const versionId = required(p, 'VersionId')
        allow(ctx, 'DeletePolicyVersion', arn)
        const pol = ownPolicy(ctx, 'DeletePolicyVersion', arn)
        if (!pol.versions.some((v) => v.versionId === versionId))
          throw noSuchEntity(`Policy ${arn} version ${versionId} does not exist or is not attachable.`)
        if (versionId === pol.defaultVersionId)
          throw deleteConflict('Cannot delete the default version of a policy.')
        pol.versions = pol.versions.filter((v) => v.versionId !== versionId)
        store.policies.put(ctx.identity.account, pol.name.toLowerCase(), pol)
        return undefined
      },
      DeletePolicy: (p, ctx) => {
        const arn = required(p, 'PolicyArn')
        allow(ctx, 'DeletePolicy', arn)
        const pol = ownPolicy(ctx, 'DeletePolicy', arn)
        if (pol.attachmentCount > 0) throw deleteConflict('Cannot delete a policy attached to entities.')
        if (pol.versions.length > 1)
          throw deleteConflict(
            "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
          )
        store.policies.delete(ctx.identity.account, pol.name.toLowerCase())
        return undefined
      },

      CreateUser: (p, ctx) => {
        const name = nameParam(p, 'UserName')
        const path = pathParam(p)
        const arn = arnOf(ctx, `user${path}${name}`)
        allow(ctx, 'CreateUser', arn)
        if (store.user(ctx.identity.account, name))
          throw entityAlreadyExists(`User with name ${name} already exists.`)
        const u: UserRecord = {
          name,
          path,
          userId: uniqueId('AIDA'),
          arn,
          created: now(),
          tags: tagList(p),
          attached: [],
        }
        store.users.put(ctx.identity.account, name.toLowerCase(), u)
        return { User: userXml(u) }
      },
      GetUser: (p, ctx) => {
        const name = optional(p, 'UserName') ?? ctx.identity.credential.userName
        if (!name) throw validationError('Must specify userName when calling with non-User credentials')
        allow(ctx, 'GetUser', userArnFor(ctx, name))
        return { User: userXml(getUser(ctx, name)) }
      },
      ListUsers: (p, ctx) => {
        allow(ctx, 'ListUsers', '*')
        const prefix = optional(p, 'PathPrefix') ?? '/'
        const users = store.users
          .list(ctx.identity.account)
          .map((x) => x.value)
          .filter((u) => u.path.startsWith(prefix))
        const pg = page(p, users)
        return { Users: { member: pg.items.map(userXml) }, IsTruncated: pg.IsTruncated, Marker: pg.Marker }
      },
      DeleteUser: (p, ctx) => {
        const name = nameParam(p, 'UserName')
        allow(ctx, 'DeleteUser', userArnFor(ctx, name))
        const u = getUser(ctx, name)
        if (keysOf(ctx.identity.account, u.name).length)
          throw deleteConflict('Cannot delete entity, must delete access keys first.')
        if (store.userPolicies.list(ctx.identity.account, u.name.toLowerCase() + '/').length)
          throw deleteConflict('Cannot delete entity, must delete policies first.')
        if (u.attached.length) throw deleteConflict('Cannot delete entity, must detach all policies first.')
        store.users.delete(ctx.identity.account, u.name.toLowerCase())
        return undefined
      },
      CreateAccessKey: (p, ctx) => {
        const name = optional(p, 'UserName') ?? ctx.identity.credential.userName
        if (!name) throw validationError('Must specify userName when calling with non-User credentials')
        allow(ctx, 'CreateAccessKey', userArnFor(ctx, name))
        const u = getUser(ctx, name)
        if (keysOf(ctx.identity.account, u.name).length >= 2)
          throw limitExceeded('Cannot exceed quota for AccessKeysPerUser: 2')
        const rec: CredentialRecord = {
          accessKeyId: uniqueId('AKIA'),
          secretAccessKey: secretKey(),
          account: ctx.identity.account,
          partition: ctx.partition,
          kind: 'user',
          arn: u.arn,
          userName: u.name,
          principalId: u.userId,
          status: 'Active',
          created: now(),
        }
        runtime.credentials.put('', rec.accessKeyId, rec)
        return {
          AccessKey: {
            UserName: u.name,
            AccessKeyId: rec.accessKeyId,
            Status: 'Active',
            SecretAccessKey: rec.secretAccessKey,
            CreateDate: rec.created,
          },
        }
      },
      ListAccessKeys: (p, ctx) => {
        const name = optional(p, 'UserName') ?? ctx.identity.credential.userName
        if (!name) throw validationError('Must specify userName when calling with non-User credentials')
        allow(ctx, 'ListAccessKeys', userArnFor(ctx, name))
        const u = getUser(ctx, name)
        return {
          AccessKeyMetadata: {
            member: keysOf(ctx.identity.account, u.name).map((k) => ({
              UserName: u.name,
              AccessKeyId: k.accessKeyId,
              Status: k.status,
              CreateDate: k.created,
            })),
          },
          IsTruncated: false,
        }
      },
      UpdateAccessKey: (p, ctx) => {
        const id = required(p, 'AccessKeyId')
        const status = required(p, 'Status')
        if (status !== 'Active' && status !== 'Inactive')
          throw validationError(
            `1 validation error detected: Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`,
          )
        const k = ownKey(ctx, p, id)
        allow(ctx, 'UpdateAccessKey', userArnFor(ctx, k.userName ?? ''))
        runtime.credentials.put('', id, { ...k, status })
        return undefined
      },
      DeleteAccessKey: (p, ctx) => {
        const id = required(p, 'AccessKeyId')
        const k = ownKey(ctx, p, id)
        allow(ctx, 'DeleteAccessKey', userArnFor(ctx, k.userName ?? ''))
        runtime.credentials.delete('', id)
        return undefined
      },
    },
  }

  function keysOf(account: string, userName: string): CredentialRecord[] {
    return runtime.credentials
      .list('', 'AKIA')
      .map((x) => x.value)
      .filter(
        (c) =>
          c.kind === 'user' && c.account === account && c.userName?.toLowerCase() === userName.toLowerCase(),
      )
  }

  function ownKey(ctx: RequestContext, p: QueryParams, id: string): CredentialRecord {
    const k = runtime.credentials.get('', id)
    const userName = optional(p, 'UserName') ?? ctx.identity.credential.userName
    if (
      !k ||
      k.kind !== 'user' ||
      k.account !== ctx.identity.account ||
      (userName && k.userName?.toLowerCase() !== userName.toLowerCase())
    )
      throw noSuchEntity(`The Access Key with id ${id} cannot be found.`)
    return k
  }

  function validationError(message: string) {
    return invalidInput(message)
  }
}
