// Starts the `herald` binary named by HERALD_BIN copied alone into an empty directory (proving it
// needs no files beside it) and drives Debian's Chromium through playwright-core.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

export const OWNER = 'owner';
export const PASSWORD = 'correct horse battery staple';
const RESULTS = new URL('../test-results/', import.meta.url).pathname;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export async function startHerald() {
  const binary = process.env.HERALD_BIN;
  if (!binary) throw new Error('HERALD_BIN must name the herald binary to test');
  const dir = mkdtempSync(join(tmpdir(), 'herald-e2e-'));
  copyFileSync(binary, join(dir, 'herald'));
  const port = await freePort();
  const child = spawn('./herald', ['serve', '--listen', `127.0.0.1:${port}`], {
    cwd: dir,
    env: { PATH: process.env.PATH, HERALD_LOG: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error('herald did not become healthy');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    dir,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

// Runs `body` with a fresh page; on failure saves a screenshot under end2end/test-results/.
export async function withPage(browser, name, body, contextOptions = {}) {
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Herald's Content-Security-Policy must never block Herald's own scripts, styles or requests.
  const blocked = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to (execute|load|apply|connect)/.test(message.text())) {
      blocked.push(message.text());
    }
  });
  try {
    await body(page, errors);
    if (blocked.length > 0) {
      throw new Error(`the page's own content was blocked by its CSP: ${blocked.join(' | ')}`);
    }
  } catch (error) {
    mkdirSync(RESULTS, { recursive: true });
    const file = join(RESULTS, `${name.replace(/\W+/g, '-')}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    error.message += `\n(screenshot: ${file}; page errors: ${JSON.stringify(errors)})`;
    throw error;
  } finally {
    await context.close();
  }
}

export async function waitForHydration(page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 15_000 });
}

// Registers hooks that start Herald (alone in an empty directory) and Chromium before a test
// file's tests and stop both after them; `env.herald` and `env.browser` are set once they ran.
export function heraldAndBrowser() {
  const env = {};
  before(async () => {
    env.herald = await startHerald();
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.herald?.stop();
  });
  return env;
}
