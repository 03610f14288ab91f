/**
 * What the browser suites share: Debian's Chromium (/usr/bin/chromium, installed by the bootstrap) driven by
 * playwright-core, never a browser download; and a page that records every error it logs, every uncaught exception
 * and every Content-Security-Policy violation, so a suite can require that there were none.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';

/** Where the suites leave their screenshots. */
export const SHOTS = path.join(__dirname, '..', '..', '.local', 'console');
const CHROMIUM = '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
}

/** A new page of `width` x 900 whose errors, exceptions and CSP violations go into `problems`; not yet navigated. */
export async function watchedPage(browser: Browser, width = 1280): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  // page code as strings: the suites are type-checked for Node, without the DOM's types
  await page.addInitScript("document.addEventListener('securitypolicyviolation', (e) => console.error('CSP: ' + e.violatedDirective + ' ' + e.blockedURI))");
  return { page, problems };
}
