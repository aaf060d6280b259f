/** A project's logsConfig (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_LogsConfig.html). */
import type { LogsConfig } from '@aws-sdk/client-codebuild'

/** Whether CloudWatch Logs are on for a build: the default, unless `cloudWatchLogs.status` is DISABLED. */
export function cloudWatchLogsEnabled(logsConfig: LogsConfig | undefined): boolean {
  return logsConfig?.cloudWatchLogs?.status !== 'DISABLED'
}
