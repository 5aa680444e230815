// Helpers for the browser tests: a seeded WHMCS harness with its page server (fixture.php), and
// Debian's chromium driven by playwright-core. Everything stays on loopback; no browser is downloaded.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const screenshotDir = path.join(repoRoot, 'tests/output/screenshots');

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** `-d extension=...` for PHP: $PUQ_EXTENSION (must exist), else target/release's build when present. */
function extensionArgs() {
  const configured = process.env.PUQ_EXTENSION;
  const extension = configured || path.join(repoRoot, 'target/release/libpuq_proxmox_kvm.so');
  if (!existsSync(extension)) {
    if (configured) throw new Error(`PUQ_EXTENSION names no file: ${configured}`);
    return [];
  }
  return ['-d', `extension=${extension}`];
}

/**
 * Starts tests/browser/fixture.php <scenario>: a fresh WHMCS database and root with the addon
 * activated, the scenario seeded and the page server running. Resolves to
 * { baseUrl, db, root, facts, stderr(), stop() }; stop() closes the fixture's stdin and waits until it
 * has stopped the server, dropped the database and removed the root.
 */
export async function startHarness(scenario) {
  const child = spawn(process.env.PHP || 'php', [...extensionArgs(), path.join(repoRoot, 'tests/browser/fixture.php'), scenario], {
    cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise((resolve) => child.once('exit', resolve));

  const info = await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline >= 0) {
        try { resolve(JSON.parse(stdout.slice(0, newline))); } catch (e) { reject(new Error(`fixture.php printed ${stdout}: ${e.message}`)); }
      }
    });
    exited.then((code) => reject(new Error(`fixture.php ${scenario} exited with ${code} before it was ready:\n${stdout}${stderr}`)));
  });

  return {
    ...info,
    stderr: () => stderr,
    async stop() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGTERM'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Launches Debian's chromium headless. Playwright gives every launch a fresh temporary profile
 * (its own --user-data-dir, removed on close); it refuses a --user-data-dir argument to launch().
 */
export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** Saves a full-page screenshot as tests/output/screenshots/<name> and returns its path. */
export async function screenshot(page, name) {
  await mkdir(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, name);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Waits until the locator's trimmed text equals `expected` (the page may fill it in by AJAX). */
/** Waits until the first match of `locator` shows `expected` (a string, or a RegExp to match). */
export async function waitForText(locator, expected, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  let actual;
  do {
    actual = (await locator.first().textContent({ timeout: Math.max(deadline - Date.now(), 1) }).catch(() => null))?.trim();
    if (expected instanceof RegExp ? expected.test(actual ?? '') : actual === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  } while (Date.now() < deadline);
  throw new Error(`${locator} shows ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
}
