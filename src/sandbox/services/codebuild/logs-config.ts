/** A project's logsConfig (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_LogsConfig.html). */
import type { LogsConfig } from '@aws-sdk/client-codebuild'

/** Whether CloudWatch Logs are on for a build: the default, unless `cloudWatchLogs.status` is DISABLED. */
export function cloudWatchLogsEnabled(logsConfig: LogsConfig | undefined): boolean {
  return logsConfig?.cloudWatchLogs?.status !== 'DISABLED'
}

/**
 * Refuses what a project's (or a build's override) logsConfig asks that the sandbox would not do:
 * it writes a build's log to CloudWatch Logs as `/aws/codebuild/<project>`, stream `<build uuid>`,
 * and nowhere else. Accepting a group name, stream prefix or S3 log location and then writing
 * elsewhere would leave a user looking for logs where they never are.
 */
export function unsupportedLogsConfig(c: LogsConfig | undefined, member: string): string | undefined {
  const cw = c?.cloudWatchLogs
  if (cw?.groupName !== undefined || cw?.streamName !== undefined)
    return `${member}.cloudWatchLogs.groupName and streamName are not supported by the crosspipe sandbox: a build logs to the group /aws/codebuild/<project name>, stream <build id>; leave them out`
  if (c?.s3Logs?.status === 'ENABLED')
    return `${member}.s3Logs ENABLED is not supported by the crosspipe sandbox: it writes build logs to CloudWatch Logs only; leave s3Logs DISABLED`
  return undefined
}
