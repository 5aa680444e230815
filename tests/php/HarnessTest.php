<?php

use PHPUnit\Framework\TestCase;

/**
 * The WHMCS harness itself, against the probe modules in fixtures/probe-modules (no extension needed).
 */
final class HarnessTest extends TestCase
{
    private const PROBE_MODULES = __DIR__ . '/fixtures/probe-modules';
    private const PROBE_ADDON = 'harness_probe';

    private WhmcsHarness $whmcs;

    protected function setUp(): void
    {
        $_SESSION = $_POST = $_GET = [];
        $this->whmcs = WhmcsHarness::create(self::PROBE_MODULES);
    }

    protected function tearDown(): void
    {
        $this->whmcs->destroy();
        $_SESSION = $_POST = $_GET = [];
    }

    public function testCreateBuildsARootAndDestroyRemovesEverything(): void
    {
        $root = $this->whmcs->root;
        $this->assertFileExists("$root/configuration.php");
        $this->assertSame(realpath(self::PROBE_MODULES), realpath("$root/modules"));
        $this->assertTrue(defined('WHMCS'));
        $this->assertSame($root, ROOTDIR);
        $this->assertSame($this->whmcs->dbName, $GLOBALS['db_name']);
        $this->assertSame($GLOBALS['cc_encryption_hash'], $this->whmcs->dbConfig()['encryption_key']);
        $this->assertSame(
            ['host', 'port', 'user', 'password', 'database', 'encryption_key'],
            array_keys($this->whmcs->dbConfig())
        );

        $this->whmcs->destroy();
        $this->assertDirectoryDoesNotExist($root);
        $databases = WhmcsHarness::serverPdo()->query("SHOW DATABASES LIKE '{$this->whmcs->dbName}'")->fetchAll();
        $this->assertSame([], $databases);
    }

    public function testLogModuleCallRendersArraysAndMasksEverySecret(): void
    {
        logModuleCall('puqProxmoxKVM', 'CreateAccount', ['user' => 'root', 'password' => 'pw-123'], 'token=tok-9 pw-123', ['ok' => 'tok-9'], ['pw-123', 'tok-9', '']);

        [$row] = $this->whmcs->moduleLog();
        $this->assertSame('puqProxmoxKVM', $row['module']);
        $this->assertSame('CreateAccount', $row['action']);
        $this->assertStringContainsString('[user] => root', $row['request']);
        $this->assertStringContainsString('[password] => ***', $row['request']);
        $this->assertSame('token=*** ***', $row['response']);
        $this->assertStringContainsString('[ok] => ***', $row['arrdata']);
        $this->assertStringNotContainsString('pw-123', implode(' ', $row));
    }

    public function testLogModuleCallWritesNothingWhenModuleLoggingIsOff(): void
    {
        $this->whmcs->setConfiguration('ModuleDebugMode', '');
        logModuleCall('puqProxmoxKVM', 'CreateAccount', 'request', 'response');
        $this->assertSame([], $this->whmcs->moduleLog());
    }

    public function testEncryptIsReversibleAndNeverTheIdentity(): void
    {
        $first = encrypt('s3cret');
        $second = encrypt('s3cret');
        $this->assertNotSame('s3cret', $first);
        $this->assertNotSame($first, $second, 'a random IV per call');
        $this->assertSame('s3cret', decrypt($first));
        $this->assertSame('s3cret', decrypt($second));
        $this->assertSame('', decrypt('not encrypted'));
    }

    public function testLocalApiAnswersAndRecordsEveryCall(): void
    {
        $clientId = $this->whmcs->addClient(['firstname' => 'Ada', 'lastname' => 'Lovelace']);
        $this->whmcs->addEmailTemplate('VPS Ready');

        $this->assertSame(['result' => 'success'], localAPI('SendEmail', ['messagename' => 'VPS Ready', 'id' => 7]));
        $this->assertSame('error', localAPI('SendEmail', ['messagename' => 'No Such Template', 'id' => 7])['result']);
        $this->assertSame('pw', localAPI('DecryptPassword', ['password2' => encrypt('pw')])['password']);
        $client = localAPI('GetClientsDetails', ['clientid' => $clientId]);
        $this->assertSame('success', $client['result']);
        $this->assertSame('Ada Lovelace', $client['fullname']);
        $this->assertSame($clientId, $client['client']['id']);
        $this->assertSame(
            ['result' => 'error', 'message' => 'Command not supported by the harness'],
            localAPI('AcceptOrder', ['orderid' => 1], 'admin')
        );

        $calls = $this->whmcs->localApiCalls();
        $this->assertSame(['SendEmail', 'SendEmail', 'DecryptPassword', 'GetClientsDetails', 'AcceptOrder'], array_column($calls, 'command'));
        $this->assertSame(['messagename' => 'VPS Ready', 'id' => 7], $calls[0]['values']);
        $this->assertSame('admin', $calls[4]['adminUser']);
    }

    public function testTokensComeFromTheSessionAndCheckTokenRejectsOthers(): void
    {
        $token = generate_token('plain');
        $this->assertSame($token, $_SESSION['tkval']);
        $this->assertSame("&token=$token", generate_token());
        $this->assertSame('<input type="hidden" name="token" value="' . $token . '" />', generate_token('form'));

        $_POST['token'] = $token;
        $this->assertTrue(check_token());
        $_POST = [];
        $_GET['token'] = $token;
        $this->assertTrue(check_token());

        $_GET['token'] = 'forged';
        $this->expectException(WhmcsHarnessTokenException::class);
        check_token();
    }

    public function testHooksRunInPriorityThenRegistrationOrder(): void
    {
        add_hook('HarnessTestOrder', 5, fn (array $vars) => "late {$vars['n']}");
        add_hook('HarnessTestOrder', 1, fn () => 'early');
        add_hook('HarnessTestOrder', 5, fn () => null);
        add_hook('HarnessTestOrder', 5, fn () => 'late again');

        $this->assertSame(['early', 'late 1', 'late again'], run_hook('HarnessTestOrder', ['n' => 1]));
        $this->assertSame([], run_hook('HarnessTestNobodyListens', []));
    }

    public function testServerParamsAreBuiltFromTheRowsAsWhmcsBuildsThem(): void
    {
        $clientId = $this->whmcs->addClient(['firstname' => 'Ada', 'lastname' => 'Lovelace', 'email' => 'ada@example.com']);
        $serverId = $this->whmcs->addServer(['hostname' => 'pve.example.net', 'ipaddress' => '192.0.2.10', 'password' => 'pve-secret', 'port' => null]);
        $productId = $this->whmcs->addProduct(['configoption1' => 'node1', 'configoption24' => 'last']);
        $this->whmcs->addConfigOption($productId, 'ram|Memory', ['1024|1 GB', '2048|2 GB']);
        $this->whmcs->addConfigOption($productId, 'disk|Disk (GB)', ['GB'], 4, 10, 500);
        $this->whmcs->addConfigOption($productId, 'backup', ['Yes'], 3);
        $this->whmcs->addConfigOption($productId, 'os|Operating system', ['debian12|Debian 12']);
        $this->whmcs->addCustomField($productId, 'vmid|VM ID');
        $serviceId = $this->whmcs->addService([
            'userid' => $clientId, 'packageid' => $productId, 'server' => $serverId,
            'domain' => 'vm.example.com', 'username' => 'vmuser', 'password' => 'vm-secret', 'domainstatus' => 'Pending',
        ]);
        $this->whmcs->setServiceConfigOption($serviceId, 'ram', '2048');
        $this->whmcs->setServiceConfigOption($serviceId, 'disk', 40);
        $this->whmcs->setServiceConfigOption($serviceId, 'backup', 1);
        $this->whmcs->setServiceCustomField($serviceId, 'vmid', '105');

        $params = $this->whmcs->serverParams($serviceId);

        $this->assertSame($serviceId, $params['serviceid']);
        $this->assertSame($clientId, $params['userid']);
        $this->assertSame($productId, $params['pid']);
        $this->assertSame($serverId, $params['serverid']);
        $this->assertSame('vm.example.com', $params['domain']);
        $this->assertSame('vmuser', $params['username']);
        $this->assertSame('vm-secret', $params['password']);
        $this->assertSame('Pending', $params['status']);
        $this->assertSame('server', $params['producttype']);
        $this->assertSame('puqProxmoxKVM', $params['moduletype']);
        $this->assertSame('node1', $params['configoption1']);
        $this->assertSame('last', $params['configoption24']);
        $this->assertSame('', $params['configoption2']);
        $this->assertSame(['ram' => '2048', 'disk' => 40, 'backup' => 1, 'os' => ''], $params['configoptions']);
        $this->assertSame(['vmid' => '105'], $params['customfields']);
        $this->assertSame($clientId, $params['clientsdetails']['userid']);
        $this->assertSame($clientId, $params['clientsdetails']['id']);
        $this->assertSame('Ada Lovelace', $params['clientsdetails']['fullname']);
        $this->assertSame('ada@example.com', $params['clientsdetails']['email']);
        $this->assertTrue($params['server']);
        $this->assertSame('192.0.2.10', $params['serverip']);
        $this->assertSame('pve.example.net', $params['serverhostname']);
        $this->assertSame('root@pam', $params['serverusername']);
        $this->assertSame('pve-secret', $params['serverpassword']);
        $this->assertSame('', $params['serveraccesshash']);
        $this->assertTrue($params['serversecure']);
        $this->assertSame('https', $params['serverhttpprefix']);
        // No port on the entry: the module's MetaData default when its file is loaded (another
        // test in this process may have loaded it), else empty.
        $default = function_exists('puqProxmoxKVM_MetaData') ? (string) (puqProxmoxKVM_MetaData()['DefaultSSLPort'] ?? '') : '';
        $this->assertSame($default, $params['serverport']);
        $this->assertArrayNotHasKey('model', $params);
    }

    public function testServerParamsOfAServiceWithoutServer(): void
    {
        $params = $this->whmcs->serverParams($this->whmcs->addService(['server' => 0]));
        $this->assertFalse($params['server']);
        $this->assertSame('', $params['serverpassword']);
    }

    public function testFixturesRejectColumnsWhmcsDoesNotHave(): void
    {
        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessage('tblhosting has no column domain_status');
        $this->whmcs->addService(['domain_status' => 'Active']);
    }

    public function testInsertRowRequiresEveryNotNullColumnWithoutDefault(): void
    {
        $this->expectException(LogicException::class);
        $this->expectExceptionMessage('a tblservergroups row needs filltype');
        $this->whmcs->insertRow('tblservergroups', ['name' => 'group']);
    }

    public function testCallServerModuleCallsTheProductsModuleAndMovesTheStatusOnSuccessOnly(): void
    {
        $productId = $this->whmcs->addProduct(['servertype' => 'harnessprobe']);
        $serviceId = $this->whmcs->addService(['packageid' => $productId, 'domainstatus' => 'Pending']);
        $failing = $this->whmcs->addService(['packageid' => $productId, 'domain' => 'fail.example.com']);

        $this->assertSame('success', $this->whmcs->callServerModule('CreateAccount', $serviceId, ['configoption1' => 'override']));
        $this->assertSame('override', end($GLOBALS['probeServerCalls'])['configoption1']);
        $this->assertSame('Active', $this->status($serviceId));
        $this->whmcs->callServerModule('SuspendAccount', $serviceId, ['suspendreason' => 'Overdue']);
        $this->assertSame('Suspended', $this->status($serviceId));
        $this->assertSame('probe failure', $this->whmcs->callServerModule('TerminateAccount', $failing));
        $this->assertSame('Active', $this->status($failing));
        $this->assertStringContainsString('Module CreateAccount Successful', $this->whmcs->activityLog()[0]['description']);
    }

    public function testActivateAddonRecordsItsSettingsAsWhmcsDoes(): void
    {
        $result = $this->whmcs->activateAddon(self::PROBE_ADDON);

        $this->assertSame(['status' => 'success', 'description' => 'probe ready'], $result);
        $settings = $this->whmcs->pdo()
            ->query("SELECT setting, value FROM tbladdonmodules WHERE module = 'harness_probe'")
            ->fetchAll(PDO::FETCH_KEY_PAIR);
        $this->assertSame(['version' => '1.2.3', 'access' => '1', 'greeting' => 'hello'], $settings);
        $this->assertSame('probe activated', $this->whmcs->activityLog()[0]['description']);
        $this->assertSame('System', $this->whmcs->activityLog()[0]['user'], 'no admin is logged in on the CLI');
        $this->assertSame('harness_probe', $this->whmcs->pdo()
            ->query("SELECT value FROM tblconfiguration WHERE setting = 'ActiveAddonModules'")->fetchColumn());
    }

    public function testPageServerWrapsTheAddonInTheAdminShell(): void
    {
        $this->whmcs->activateAddon(self::PROBE_ADDON);
        $base = $this->whmcs->serve() . '/admin/addonmodules.php?module=harness_probe';

        $page = self::http($base);
        $this->assertSame(200, $page['status'], $this->whmcs->serverLog());
        $this->assertStringContainsString('WHMCS Admin', $page['body']);
        $this->assertStringContainsString('/assets/vendor/bootstrap/css/bootstrap.min.css', $page['body']);
        $this->assertStringContainsString('/assets/vendor/jquery/jquery.min.js', $page['body']);
        $this->assertStringContainsString('<h1>Harness Probe</h1>', $page['body']);
        $this->assertStringContainsString('<div id="probe" data-greeting="hello">', $page['body']);
        $this->assertStringContainsString('<meta name="probe-hook" content="addonmodules.php?module=harness_probe">', $page['body']);
        $this->assertMatchesRegularExpression('/var csrfToken = "[0-9a-f]{40}";/', $page['body']);

        $json = self::http("$base&action=vars", [], $page['cookie']);
        $this->assertStringStartsWith('application/json', $json['type']);
        $answer = json_decode($json['body'], true);
        $this->assertSame(1, $answer['adminid']);
        $this->assertSame('addonmodules.php?module=harness_probe', $answer['vars']['modulelink']);
        $this->assertSame('1.2.3', $answer['vars']['version']);
        $this->assertSame([], $answer['vars']['_lang']);
    }

    public function testPageServerChecksCsrfTokens(): void
    {
        $this->whmcs->activateAddon(self::PROBE_ADDON);
        $base = $this->whmcs->serve() . '/admin/addonmodules.php?module=harness_probe';
        $page = self::http($base);
        preg_match('/name="token" value="([0-9a-f]+)"/', $page['body'], $token);

        $forged = self::http("$base&action=save", ['value' => 'x', 'token' => 'forged'], $page['cookie']);
        $this->assertSame(403, $forged['status']);
        $this->assertSame('Invalid CSRF Protection Token', $forged['body']);

        $saved = self::http("$base&action=save", ['value' => 'x', 'token' => $token[1]], $page['cookie']);
        $this->assertSame(200, $saved['status'], $this->whmcs->serverLog());
        $this->assertSame(['saved' => 'x'], json_decode($saved['body'], true));
    }

    public function testPageServerServesStaticFilesButNeverPhpOrPathsOutsideTheRoot(): void
    {
        $base = $this->whmcs->serve();

        $jquery = self::http("$base/assets/vendor/jquery/jquery.min.js");
        $this->assertSame(200, $jquery['status']);
        $this->assertStringStartsWith('text/javascript', $jquery['type']);
        $this->assertSame(200, self::http("$base/assets/vendor/bootstrap/css/bootstrap.min.css")['status']);
        $css = self::http("$base/modules/addons/harness_probe/css/probe.css");
        $this->assertSame("#probe { color: rgb(1, 2, 3); }\n", $css['body']);
        $this->assertSame(403, self::http("$base/modules/addons/harness_probe/harness_probe.php")['status']);
        $this->assertSame(404, self::http("$base/modules/addons/../../configuration.php")['status']);
        $this->assertSame(404, self::http("$base/modules/addons/%2e%2e/%2e%2e/configuration.php")['status']);
        $this->assertSame(404, self::http("$base/configuration.php")['status']);
        $this->assertSame(403, self::http("$base/admin/addonmodules.php?module=harness_probe")['status'], 'not activated');
        $this->assertSame(404, self::http("$base/admin/addonmodules.php?module=nosuchaddon")['status']);
    }

    private function status(int $serviceId): string
    {
        $stmt = $this->whmcs->pdo()->prepare('SELECT domainstatus FROM tblhosting WHERE id = ?');
        $stmt->execute([$serviceId]);
        return $stmt->fetchColumn();
    }

    /** @return array{status: int, type: string, body: string, cookie: string} */
    private static function http(string $url, array $post = [], string $cookie = ''): array
    {
        $curl = curl_init($url);
        curl_setopt_array($curl, [
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_PATH_AS_IS => true,
            CURLOPT_COOKIE => $cookie,
            CURLOPT_HEADER => true,
            CURLOPT_TIMEOUT => 10,
        ]);
        if ($post !== []) {
            curl_setopt($curl, CURLOPT_POSTFIELDS, http_build_query($post));
        }
        $response = (string) curl_exec($curl);
        $headerSize = curl_getinfo($curl, CURLINFO_HEADER_SIZE);
        preg_match('/^Set-Cookie: ([^;]+)/mi', substr($response, 0, $headerSize), $setCookie);
        return [
            'status' => curl_getinfo($curl, CURLINFO_RESPONSE_CODE),
            'type' => (string) curl_getinfo($curl, CURLINFO_CONTENT_TYPE),
            'body' => substr($response, $headerSize),
            'cookie' => $setCookie[1] ?? $cookie,
        ];
    }
}
