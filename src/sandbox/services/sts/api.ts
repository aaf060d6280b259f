/**
 * STS over awsQuery: GetCallerIdentity and AssumeRole. Behaviour and citations in SPEC.md.
 */
import { parseArn } from '../../../iam/arn.js'
import { XML_NAMESPACES } from '../../../iam/aws-facts.js'
import type { PolicyDocument } from '../../../iam/types.js'
import { validatePolicy } from '../../../iam/index.js'
import { authorize } from '../../auth/authorize.js'
import type { CredentialRecord } from '../../auth/identity.js'
import type { Runtime } from '../../runtime.js'
import { checkPattern, optional, optionalInt, required } from '../query-params.js'
import type { QueryService, RequestContext } from '../types.js'
import { accessDenied, malformedPolicyDocument, packedPolicyTooLarge, validationError } from './errors.js'
import { issueSession, issueUserSession } from './store.js'

const SESSION_NAME = /^[\w+=,.@-]*$/

/** The `Credentials` element of AssumeRole and GetSessionToken. */
function credentialsXml(rec: CredentialRecord): Record<string, string | undefined> {
  return {
    AccessKeyId: rec.accessKeyId,
    SecretAccessKey: rec.secretAccessKey,
    SessionToken: rec.sessionToken,
    Expiration: rec.expiration,
  }
}

/** The STS service. */
export function stsService(runtime: Runtime): QueryService {
  return {
    name: 'sts',
    signingName: 'sts',
    protocol: 'query',
    xmlNamespace: XML_NAMESPACES.sts,
    apiVersion: '2011-06-15',
    global: true,
    actions: {
      // GetCallerIdentity needs no permission: https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
      GetCallerIdentity: (_p, ctx) => ({
        UserId: ctx.identity.userId,
        Account: ctx.identity.account,
        Arn: ctx.identity.arn,
      }),

      // Temporary credentials of the calling user or root: 900–129,600 s (root: at most 3,600),
      // default 43,200; not from temporary credentials. No permission is needed.
      // https://docs.aws.amazon.com/STS/latest/APIReference/API_GetSessionToken.html
      GetSessionToken: (p, ctx: RequestContext) => {
        const cred = ctx.identity.credential
        if (ctx.identity.kind === 'assumed-role' || cred.sessionToken !== undefined)
          throw accessDenied('Cannot call GetSessionToken with session credentials')
        if (optional(p, 'SerialNumber') !== undefined || optional(p, 'TokenCode') !== undefined)
          throw accessDenied(
            'MFA devices are not modelled by the crosspipe sandbox: call GetSessionToken without SerialNumber and TokenCode.',
          )
        const max = ctx.identity.kind === 'root' ? 3600 : 129600
        const duration = optionalInt(p, 'DurationSeconds', 900, max) ?? Math.min(43200, max)
        return { Credentials: credentialsXml(issueUserSession(runtime, cred, duration, ctx.now)) }
      },

      AssumeRole: (p, ctx: RequestContext) => {
        const roleArnParam = required(p, 'RoleArn')
        const sessionName = required(p, 'RoleSessionName')
        checkPattern('RoleSessionName', sessionName, SESSION_NAME, 2, 64)
        checkPattern('RoleArn', roleArnParam, /^[\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD]+$/, 20, 2048)
        const duration = optionalInt(p, 'DurationSeconds', 900, 43200) ?? 3600
        const externalId = optional(p, 'ExternalId')
        if (externalId !== undefined) checkPattern('ExternalId', externalId, /^[\w+=,.@:/-]*$/, 2, 1224)
        const sourceIdentity = optional(p, 'SourceIdentity')
        const policyText = optional(p, 'Policy')
        let sessionPolicy: PolicyDocument | undefined
        if (policyText !== undefined) {
          if (policyText.length > 2048) throw packedPolicyTooLarge()
          try {
            sessionPolicy = JSON.parse(policyText) as PolicyDocument
          } catch {
            throw malformedPolicyDocument('Syntax errors in policy.')
          }
          if (!sessionPolicy || typeof sessionPolicy !== 'object' || Array.isArray(sessionPolicy))
            throw malformedPolicyDocument('Syntax errors in policy.')
          // The engine evaluates it as a session policy on every request: refuse what it cannot evaluate.
          const problems = validatePolicy(sessionPolicy, 'session')
          if (problems.length)
            throw malformedPolicyDocument(problems.map((x) => `${x.element}: ${x.message}`).join('; '))
        }

        // The root user cannot assume roles (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
        if (ctx.identity.kind === 'root') throw accessDenied('Roles may not be assumed by root accounts.')

        const arn = parseArn(roleArnParam)
        const roleName = arn?.resource.startsWith('role/') ? arn.resource.split('/').pop() : undefined
        const role = arn && roleName ? runtime.iam.role(arn.account, roleName) : undefined
        const trust: PolicyDocument | undefined = role ? runtime.iam.parsed(role.assumeRolePolicy) : undefined
        const context: Record<string, string> = { 'sts:RoleSessionName': sessionName }
        if (externalId !== undefined) context['sts:ExternalId'] = externalId
        if (sourceIdentity !== undefined) context['sts:SourceIdentity'] = sourceIdentity
        // A role that does not exist is denied like one whose trust policy does not allow the caller:
        // AWS does not reveal which (an empty trust policy gives the engine nothing to allow).
        authorize(
          ctx,
          {
            action: 'sts:AssumeRole',
            resource: role?.arn ?? roleArnParam,
            resourceAccount: arn?.account,
            resourcePolicy: trust ?? { Version: '2012-10-17', Statement: [] },
            resourcePolicyName: role ? `trust policy of role ${role.name}` : 'trust policy',
            context,
          },
          'query',
        )
        if (!role || !arn)
          throw accessDenied(
            `User: ${ctx.identity.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArnParam}`,
          )
        if (duration > role.maxSessionDuration)
          throw validationError(
            `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`,
          )
        // Role chaining caps sessions at one hour (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-role-chaining).
        if (ctx.identity.kind === 'assumed-role' && duration > 3600)
          throw validationError(
            'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
          )
        // The role was used: GetRole's RoleLastUsed says when and where. Written at most once a
        // minute per role, so a busy pipeline does not write the role on every AssumeRole.
        const last = role.lastUsed ? Date.parse(role.lastUsed.date) : 0
        if (ctx.now.getTime() - last > 60_000 || role.lastUsed?.region !== ctx.region)
          runtime.iam.roles.put(arn.account, role.name.toLowerCase(), {
            ...role,
            lastUsed: { date: ctx.now.toISOString().replace(/\.\d{3}Z$/, 'Z'), region: ctx.region },
          })
        const rec = issueSession({
          runtime,
          account: arn.account,
          partition: arn.partition,
          role,
          sessionName,
          durationSeconds: duration,
          now: ctx.now,
          sessionPolicy,
          sourceIdentity,
        })
        return {
          Credentials: credentialsXml(rec),
          AssumedRoleUser: { AssumedRoleId: `${role.roleId}:${sessionName}`, Arn: rec.arn },
          PackedPolicySize:
            policyText !== undefined ? Math.min(100, Math.ceil((policyText.length / 2048) * 100)) : undefined,
          SourceIdentity: sourceIdentity,
        }
      },
    },
  }
}
