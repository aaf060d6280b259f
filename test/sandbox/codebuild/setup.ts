// Registers CodeBuild and CodePipeline with the sandbox for these tests when the core's service
// list does not name them yet (the registration line is the core's to add), then starts a harness.
import { SERVICE_FACTORIES, type ServiceFactory } from '../../../src/sandbox/services/index.js'
import { codebuildService } from '../../../src/sandbox/services/codebuild/api.js'
import { logsService } from '../../../src/sandbox/services/codebuild/logs.js'
import type { StartSandboxOptions } from '../../../src/sandbox/index.js'
import { harness, type Harness } from '../helpers.js'

export async function sandboxWithBuilds(
  extra: ServiceFactory[] = [],
  opts: Partial<StartSandboxOptions> = {},
): Promise<Harness> {
  const list = SERVICE_FACTORIES as ServiceFactory[]
  for (const f of [codebuildService, logsService, ...extra])
    if (!list.some((x) => x.name === f.name)) list.push(f)
  return harness(opts)
}

export async function until<T>(
  what: string,
  f: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await f()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

export const trustService = (service: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { Service: `${service}.amazonaws.com` }, Action: 'sts:AssumeRole' },
    ],
  })
