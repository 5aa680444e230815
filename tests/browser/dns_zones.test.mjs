// The DNS Zones page against a private PowerDNS (Debian's pdns_server) and the Cloudflare simulator
// (target/debug/puq-sim-dns): add zones, test them (green and red toasts with the provider's words),
// edit without retyping the secret (it still works), fields that follow the Type, and no secret in
// any HTML or JSON the browser receives.

import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, repoRoot, screenshot, startHarness, waitForText } from './lib.mjs';

const PDNS_KEY = 'pdns-browser-key-41d9';
const CF_TOKEN = 'cf-browser-token-8c2e';
const SECRETS = [PDNS_KEY, CF_TOKEN];

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => { const { port } = server.address(); server.close(() => resolve(port)); });
    server.on('error', reject);
  });
}

/** A private pdns_server on free loopback ports; resolves to { url, stop() }. */
async function startPowerDns(zones) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'puq-pdns-browser-'));
  const schema = ['/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql', '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql'].find(existsSync);
  execFileSync('sqlite3', [path.join(dir, 'pdns.db'), `.read ${schema}`]);
  const [apiPort, dnsPort] = [await freePort(), await freePort()];
  writeFileSync(path.join(dir, 'pdns.conf'), [
    'launch=gsqlite3', `gsqlite3-database=${dir}/pdns.db`, 'api=yes', `api-key=${PDNS_KEY}`, 'webserver=yes',
    'webserver-address=127.0.0.1', `webserver-port=${apiPort}`, 'webserver-allow-from=127.0.0.0/8',
    'local-address=127.0.0.1', `local-port=${dnsPort}`, `socket-dir=${dir}`, '',
  ].join('\n'));
  const child = spawn('pdns_server', [`--config-dir=${dir}`, '--daemon=no', '--guardian=no', '--disable-syslog', '--write-pid=no'], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${apiPort}`;
  const api = (method, p, body) => fetch(`${url}/api/v1${p}`, {
    method, headers: { 'X-API-Key': PDNS_KEY, Accept: 'application/json' }, body: body && JSON.stringify(body),
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const ok = await api('GET', '/servers/localhost').then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error('pdns_server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const zone of zones) {
    const r = await api('POST', '/servers/localhost/zones', { name: `${zone}.`, kind: 'Native', nameservers: ['ns1.example.net.'] });
    assert.equal(r.status, 201);
  }
  return { url, stop() { child.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); } };
}

/** The Cloudflare simulator binary; resolves to { url, zones: {name: id}, stop() }. */
async function startCloudflare(zones) {
  const bin = path.join(repoRoot, 'target/debug/puq-sim-dns');
  assert.ok(existsSync(bin), 'build the simulator first: cargo build -p puq-sim-dns');
  const child = spawn(bin, ['cloudflare', '--token', CF_TOKEN, ...zones.flatMap((z) => ['--zone', z])], { stdio: ['ignore', 'pipe', 'ignore'] });
  const info = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)));
    });
    child.once('exit', (code) => reject(new Error(`puq-sim-dns exited with ${code}`)));
  });
  return { ...info, stop() { child.kill('SIGTERM'); } };
}

test('DNS Zones: add, test, edit without retyping the secret, and no secret in the browser', async (t) => {
  const pdns = await startPowerDns(['example.com']);
  t.after(() => pdns.stop());
  const cf = await startCloudflare(['example.net']);
  t.after(() => cf.stop());
  const whmcs = await startHarness('dns_zones');
  t.after(() => whmcs.stop());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  page.on('dialog', (dialog) => dialog.accept());
  const pageErrors = [];
  const bodies = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('response', async (r) => {
    if (r.url().startsWith(whmcs.baseUrl)) bodies.push(await r.text().catch(() => ''));
  });

  const link = `${whmcs.baseUrl}/admin/addonmodules.php?module=puq_proxmox_kvm`;
  await page.goto(`${link}&page=dns_zones`);
  await page.locator('.puq-dns-table .puq-empty').waitFor();
  const toast = page.locator('.puq-toast');
  const row = (zone) => page.locator('.puq-dns-table tbody tr', { has: page.locator('.puq-zone-name', { hasText: zone }) });
  const form = page.locator('form.puq-dns-form');

  // PowerDNS: the Type switches the fields.
  await page.click('.puq-dns-add');
  await form.locator('[name="zone"]').fill('Example.COM.');
  await form.locator('[name="type"]').selectOption('hestiacp');
  assert.ok(await form.locator('[data-provider="hestiacp"] [name="admin_user"]').isVisible());
  assert.ok(!(await form.locator('[data-provider="powerdns"] [name="api_key"]').isVisible()));
  await form.locator('[name="type"]').selectOption('powerdns');
  await form.locator('[data-provider="powerdns"] [name="server_url"]').fill(pdns.url);
  // A missing key is named on its field.
  await form.locator('button[type="submit"]').click();
  await waitForText(form.locator('[data-provider="powerdns"] [data-field="api_key"] .puq-field-error'), 'api_key: is required - enter the API Key');
  await form.locator('[data-provider="powerdns"] [name="api_key"]').fill(PDNS_KEY);
  await form.locator('button[type="submit"]').click();
  await row('example.com').waitFor();
  assert.equal(await row('example.com').locator('.puq-zone-type').textContent(), 'PowerDNS');

  await row('example.com').locator('.puq-dns-test').click();
  await page.locator('.puq-toast.alert-success', { hasText: 'PowerDNS zone example.com found' }).waitFor();

  // Cloudflare against the simulator.
  await page.click('.puq-dns-add');
  await form.locator('[name="zone"]').fill('example.net');
  await form.locator('[name="type"]').selectOption('cloudflare');
  const cfFields = form.locator('[data-provider="cloudflare"]');
  await cfFields.locator('[name="zone_id"]').fill(cf.zones['example.net']);
  await cfFields.locator('[name="api_token"]').fill(CF_TOKEN);
  await cfFields.locator('[name="api_url"]').fill(cf.url);
  await form.locator('button[type="submit"]').click();
  await row('example.net').waitFor();
  await row('example.net').locator('.puq-dns-test').click();
  await page.locator('.puq-toast.alert-success', { hasText: 'Cloudflare zone example.net found' }).waitFor();

  // Edit without retyping the token: the field is empty with the placeholder, and it still works.
  await row('example.net').locator('.puq-dns-edit').click();
  const token = cfFields.locator('[name="api_token"]');
  assert.equal(await token.inputValue(), '');
  assert.equal(await token.getAttribute('placeholder'), '(unchanged \u2013 enter new to replace)');
  await cfFields.locator('[name="account_id"]').fill('0123456789abcdef0123456789abcdef');
  await form.locator('button[type="submit"]').click();
  await page.locator('.puq-toast.alert-success', { hasText: 'Saved example.net' }).waitFor();
  await row('example.net').locator('.puq-dns-test').click();
  await page.locator('.puq-toast.alert-success', { hasText: 'Cloudflare zone example.net found' }).waitFor();

  // A wrong key: a red toast with PowerDNS's answer.
  await row('example.com').locator('.puq-dns-edit').click();
  await form.locator('[data-provider="powerdns"] [name="api_key"]').fill('wrong-key');
  await form.locator('button[type="submit"]').click();
  await page.locator('.puq-toast.alert-success', { hasText: 'Saved example.com' }).waitFor();
  await row('example.com').locator('.puq-dns-test').click();
  await page.locator('.puq-toast.alert-danger', { hasText: 'HTTP 401' }).waitFor();
  await screenshot(page, 'dns_zones.png');

  // Delete.
  await row('example.com').locator('.puq-dns-delete').click();
  await row('example.com').waitFor({ state: 'detached' });
  assert.equal(await page.locator('.puq-dns-table tbody tr').count(), 1);

  // No secret anywhere the browser saw: every response body, and the page as it stands.
  const html = await page.content();
  for (const secret of SECRETS) {
    assert.ok(!html.includes(secret), 'page HTML has no secret');
    assert.ok(bodies.every((b) => !b.includes(secret)), `no response carried ${secret}`);
  }
  const list = await page.evaluate(async (url) => (await fetch(`${url}&action=dns_zones`)).text(), link);
  assert.ok(list.includes('"api_token":"KEEP"') && !list.includes(CF_TOKEN), list);

  // The Dashboard counts the zones.
  await page.goto(link);
  await waitForText(page.locator('[data-card="dns_zones"] .puq-count'), '1');
  assert.deepEqual(pageErrors, []);
});
