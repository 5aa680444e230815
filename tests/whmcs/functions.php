<?php
/**
 * WHMCS's global functions as a module sees them, backed by the harness database.
 *
 * Contract with init.php: before a module runs, $GLOBALS['whmcsHarnessPdo'] is the PDO handle of the
 * WHMCS database and configuration.php's variables ($cc_encryption_hash, ...) are globals.
 * Behaviour follows developers.whmcs.com (advanced/logging, api-reference/*); where WHMCS's internals
 * are not documented, the comment on the function says what the harness chose.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

/** Thrown by check_token() in the CLI, where WHMCS would stop the request with an error page. */
final class WhmcsHarnessTokenException extends RuntimeException
{
}

function whmcs_harness_pdo(): PDO
{
    $pdo = $GLOBALS['whmcsHarnessPdo'] ?? null;
    if (!$pdo instanceof PDO) {
        throw new LogicException('the WHMCS harness is not initialised: no database handle');
    }
    return $pdo;
}

/** A tblconfiguration value, '' when the setting is absent. */
function whmcs_harness_setting(string $setting): string
{
    $stmt = whmcs_harness_pdo()->prepare('SELECT value FROM tblconfiguration WHERE setting = ?');
    $stmt->execute([$setting]);
    return (string) $stmt->fetchColumn();
}

/**
 * Writes a tblmodulelog row when module logging is on (tblconfiguration ModuleDebugMode = 'on', as
 * WHMCS does; the harness turns it on). Arrays and objects are stored as print_r() text, then every
 * non-empty value of $replaceVars is replaced by '***' in request, response and arrdata.
 */
function logModuleCall($module, $action, $requestString, $responseData, $processedData = '', $replaceVars = [])
{
    if (whmcs_harness_setting('ModuleDebugMode') !== 'on') {
        return;
    }
    $secrets = array_filter(
        array_map('strval', array_filter((array) $replaceVars, 'is_scalar')),
        static fn (string $secret): bool => $secret !== ''
    );
    $text = static function ($data) use ($secrets): string {
        $text = is_array($data) || is_object($data) ? print_r($data, true) : (string) $data;
        return str_replace($secrets, '***', $text);
    };
    whmcs_harness_pdo()
        ->prepare('INSERT INTO tblmodulelog (date, module, action, request, response, arrdata)
                   VALUES (NOW(), ?, ?, ?, ?, ?)')
        ->execute([(string) $module, (string) $action, $text($requestString), $text($responseData), $text($processedData)]);
}

/**
 * Writes a tblactivitylog row. `user` is the logged-in admin's username or 'System' (as in a real
 * WHMCS row: ...,'System',0,0,0,''); `userid` is the client the entry relates to.
 */
function logActivity($message, $userId = 0)
{
    $adminId = (int) ($_SESSION['adminid'] ?? 0);
    $user = 'System';
    if ($adminId > 0) {
        $stmt = whmcs_harness_pdo()->prepare('SELECT username FROM tbladmins WHERE id = ?');
        $stmt->execute([$adminId]);
        $user = (string) ($stmt->fetchColumn() ?: 'System');
    }
    whmcs_harness_pdo()
        ->prepare('INSERT INTO tblactivitylog (date, description, user, userid, user_id, admin_id, ipaddr)
                   VALUES (NOW(), ?, ?, ?, 0, ?, ?)')
        ->execute([(string) $message, $user, (int) $userId, $adminId, (string) ($_SERVER['REMOTE_ADDR'] ?? '')]);
}

/** Registers a hook; lower priority numbers run first, equal priorities in registration order. */
function add_hook($hookPoint, $priority, $callable)
{
    $GLOBALS['whmcsHarnessHooks'][(string) $hookPoint][] = ['priority' => (int) $priority, 'callable' => $callable];
}

/** Runs the hooks of $hookPoint with $vars and returns their non-null return values, in run order. */
function run_hook($hookPoint, $vars)
{
    $hooks = $GLOBALS['whmcsHarnessHooks'][(string) $hookPoint] ?? [];
    usort($hooks, static fn (array $a, array $b): int => $a['priority'] <=> $b['priority']); // stable since PHP 8
    $results = [];
    foreach ($hooks as $hook) {
        $result = ($hook['callable'])($vars);
        if ($result !== null) {
            $results[] = $result;
        }
    }
    return $results;
}

function whmcs_harness_cipher_key(): string
{
    $hash = (string) ($GLOBALS['cc_encryption_hash'] ?? '');
    if ($hash === '') {
        throw new LogicException('configuration.php defines no $cc_encryption_hash');
    }
    return hash('sha256', $hash, true);
}

/**
 * Reversible encryption under $cc_encryption_hash, like WHMCS's encrypt(): AES-256-CBC with a random
 * IV, base64(iv . ciphertext). Not WHMCS's byte format; modules must treat the value as opaque.
 */
function encrypt($string)
{
    $iv = random_bytes(16);
    $cipher = openssl_encrypt((string) $string, 'aes-256-cbc', whmcs_harness_cipher_key(), OPENSSL_RAW_DATA, $iv);
    return base64_encode($iv . $cipher);
}

/** Inverse of encrypt(); '' for anything it cannot decrypt (WHMCS also yields no usable value). */
function decrypt($string)
{
    $raw = base64_decode((string) $string, true);
    if ($raw === false || strlen($raw) < 32) {
        return '';
    }
    $plain = openssl_decrypt(substr($raw, 16), 'aes-256-cbc', whmcs_harness_cipher_key(), OPENSSL_RAW_DATA, substr($raw, 0, 16));
    return $plain === false ? '' : $plain;
}

/**
 * $params['clientsdetails'] / GetClientsDetails for a tblclients row, null when there is none.
 * Keys follow WHMCS (userid and id, fullname, countrycode, ...); countryname and the phone-format keys
 * are left out because they need WHMCS's country tables.
 */
function whmcs_harness_client_details(int $clientId): ?array
{
    $stmt = whmcs_harness_pdo()->prepare(
        'SELECT c.*, cur.code AS currency_code FROM tblclients c
         LEFT JOIN tblcurrencies cur ON cur.id = c.currency WHERE c.id = ?'
    );
    $stmt->execute([$clientId]);
    $c = $stmt->fetch(PDO::FETCH_ASSOC);
    if ($c === false) {
        return null;
    }
    $id = (int) $c['id'];
    return [
        'userid' => $id,
        'id' => $id,
        'client_id' => $id,
        'uuid' => $c['uuid'],
        'firstname' => $c['firstname'],
        'lastname' => $c['lastname'],
        'fullname' => trim($c['firstname'] . ' ' . $c['lastname']),
        'companyname' => $c['companyname'],
        'email' => $c['email'],
        'address1' => $c['address1'],
        'address2' => $c['address2'],
        'city' => $c['city'],
        'state' => $c['state'],
        'fullstate' => $c['state'],
        'postcode' => $c['postcode'],
        'country' => $c['country'],
        'countrycode' => $c['country'],
        'phonenumber' => $c['phonenumber'],
        'tax_id' => $c['tax_id'],
        'currency' => (int) $c['currency'],
        'currency_code' => (string) $c['currency_code'],
        'defaultgateway' => $c['defaultgateway'],
        'groupid' => (int) $c['groupid'],
        'credit' => $c['credit'],
        'language' => $c['language'],
        'status' => $c['status'],
        'notes' => $c['notes'],
    ];
}

/**
 * The internal API. Every call is recorded in the harness table harness_localapi_calls (read it with
 * WhmcsHarness::localApiCalls()). Command names are matched case-insensitively, as WHMCS does.
 */
function localAPI($command, $values = [], $adminUser = '')
{
    $values = (array) $values;
    $response = whmcs_harness_local_api(strtolower((string) $command), $values);
    whmcs_harness_pdo()
        ->prepare('INSERT INTO harness_localapi_calls (command, request, admin_user, response) VALUES (?, ?, ?, ?)')
        ->execute([(string) $command, whmcs_harness_json($values), (string) $adminUser, whmcs_harness_json($response)]);
    return $response;
}

function whmcs_harness_json($value): string
{
    return (string) json_encode($value, JSON_INVALID_UTF8_SUBSTITUTE | JSON_PARTIAL_OUTPUT_ON_ERROR);
}

function whmcs_harness_local_api(string $command, array $values): array
{
    switch ($command) {
        case 'sendemail':
            // Sends nothing; the recorded call (messagename, id, custom*) is what tests check.
            $name = (string) ($values['messagename'] ?? '');
            if ($name !== '') {
                $stmt = whmcs_harness_pdo()->prepare('SELECT COUNT(*) FROM tblemailtemplates WHERE name = ?');
                $stmt->execute([$name]);
                if ((int) $stmt->fetchColumn() === 0) {
                    return ['result' => 'error', 'message' => 'Email Template not found'];
                }
            }
            return ['result' => 'success'];
        case 'encryptpassword':
            return ['result' => 'success', 'password' => encrypt($values['password2'] ?? '')];
        case 'decryptpassword':
            return ['result' => 'success', 'password' => decrypt($values['password2'] ?? '')];
        case 'getclientsdetails':
            $clientId = (int) ($values['clientid'] ?? 0);
            if ($clientId === 0 && isset($values['email'])) {
                $stmt = whmcs_harness_pdo()->prepare('SELECT id FROM tblclients WHERE email = ?');
                $stmt->execute([(string) $values['email']]);
                $clientId = (int) $stmt->fetchColumn();
            }
            $client = whmcs_harness_client_details($clientId);
            return $client === null
                ? ['result' => 'error', 'message' => 'Client Not Found']
                : ['result' => 'success'] + $client + ['client' => $client];
        default:
            return ['result' => 'error', 'message' => 'Command not supported by the harness'];
    }
}

/**
 * The per-session CSRF token, kept in $_SESSION['tkval'] as WHMCS does. 'plain' gives the token,
 * 'form' a hidden input named token, anything else ('link') the query fragment '&token=...'.
 */
function generate_token($type = 'link')
{
    if (!isset($_SESSION)) {
        $_SESSION = []; // CLI: no session was started
    }
    $_SESSION['tkval'] ??= bin2hex(random_bytes(20));
    $token = $_SESSION['tkval'];
    switch ($type) {
        case 'plain':
            return $token;
        case 'form':
            return '<input type="hidden" name="token" value="' . $token . '" />';
        default:
            return '&token=' . $token;
    }
}

/**
 * Accepts the request when $_POST['token'] (else $_GET['token']) is the session's token. Otherwise the
 * page server discards any output, answers 403 and exits (WHMCS stops the request); the CLI throws
 * WhmcsHarnessTokenException so a PHPUnit process survives.
 */
function check_token($namespace = 'WHMCS.admin.default')
{
    $given = $_POST['token'] ?? $_GET['token'] ?? '';
    $expected = $_SESSION['tkval'] ?? '';
    if (is_string($given) && $expected !== '' && hash_equals($expected, $given)) {
        return true;
    }
    if (PHP_SAPI === 'cli') {
        throw new WhmcsHarnessTokenException('Invalid CSRF Protection Token');
    }
    while (ob_get_level() > 0) {
        ob_end_clean();
    }
    http_response_code(403);
    header('Content-Type: text/plain; charset=utf-8');
    echo 'Invalid CSRF Protection Token';
    exit;
}
