// Opens a graph page in a real headless Chromium (Debian's chromium, driven by playwright-core),
// with every request routed: anything but file: and data: URLs fails the page and is recorded.
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { BrowserContext, Page } from 'playwright-core'

export const CHROMIUM = process.env.CROSSPIPE_CHROMIUM ?? '/usr/bin/chromium'

/** Why the browser tests cannot run here, or false. */
export async function browserSkip(): Promise<string | false> {
  if (!existsSync(CHROMIUM))
    return `no Chromium at ${CHROMIUM} (apt-get install chromium): browser tests skipped`
  try {
    await import('playwright-core')
    return false
  } catch {
    return 'playwright-core is not installed (npm install): browser tests skipped'
  }
}

/** Starts Chromium with a fresh profile (its --user-data-dir) and no background network. */
export async function launch(): Promise<BrowserContext> {
  const { chromium } = await import('playwright-core')
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'crosspipe-chromium-')), {
    executablePath: CHROMIUM,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/** Opens `file` and waits until the graph is laid out; `external` collects every blocked request. */
export async function openGraph(
  browser: BrowserContext,
  file: string,
): Promise<{ page: Page; external: string[]; errors: string[] }> {
  const page = await browser.newPage()
  const external: string[] = []
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(String(e)))
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text())
  })
  await page.route('**/*', (route) => {
    const url = route.request().url()
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue()
    external.push(url)
    return route.abort()
  })
  await page.goto(pathToFileURL(file).href)
  await page.waitForFunction(
    () => (globalThis as unknown as { crosspipeGraph?: { ready: boolean } }).crosspipeGraph?.ready === true,
    undefined,
    { timeout: 60_000 },
  )
  return { page, external, errors }
}
