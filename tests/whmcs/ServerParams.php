<?php
/**
 * The $params WHMCS passes to every function of a server (provisioning) module for one service.
 *
 * Keys documented at developers.whmcs.com/provisioning-modules/module-parameters: serviceid, userid,
 * pid, serverid, domain, username, password, producttype, moduletype, configoption1..24,
 * clientsdetails, customfields, configoptions, server, serverip, serverhostname, serverusername,
 * serverpassword, serveraccesshash, serversecure. Also passed by WHMCS and used by modules in the
 * wild: accountid (= serviceid), packageid (= pid), status, serverhttpprefix, serverport.
 * 'model' (an Eloquent object) is omitted. Passwords arrive decrypted.
 */
final class WhmcsServerParams
{
    public static function build(PDO $pdo, int $serviceId): array
    {
        $stmt = $pdo->prepare(
            'SELECT h.*, p.type AS producttype, p.servertype FROM tblhosting h
             JOIN tblproducts p ON p.id = h.packageid WHERE h.id = ?'
        );
        $stmt->execute([$serviceId]);
        $service = $stmt->fetch(PDO::FETCH_ASSOC);
        if ($service === false) {
            throw new InvalidArgumentException("no tblhosting row with id $serviceId (or its product is missing)");
        }
        $productId = (int) $service['packageid'];

        $params = [
            'accountid' => $serviceId,
            'serviceid' => $serviceId,
            'userid' => (int) $service['userid'],
            'pid' => $productId,
            'packageid' => $productId,
            'serverid' => (int) $service['server'],
            'domain' => $service['domain'],
            'username' => $service['username'],
            'password' => decrypt($service['password']),
            'status' => $service['domainstatus'],
            'producttype' => $service['producttype'],
            'moduletype' => $service['servertype'],
        ];
        $params += self::productConfigOptions($pdo, $productId);
        $params['customfields'] = self::customFields($pdo, $serviceId, $productId);
        $params['configoptions'] = self::configOptions($pdo, $serviceId, $productId);
        $params['clientsdetails'] = whmcs_harness_client_details((int) $service['userid']) ?? [];
        return $params + self::server($pdo, (int) $service['server'], $service['servertype']);
    }

    /** configoption1..24: the module settings of the product (tblproducts). */
    private static function productConfigOptions(PDO $pdo, int $productId): array
    {
        $columns = implode(', ', array_map(static fn (int $n): string => "configoption$n", range(1, 24)));
        $stmt = $pdo->prepare("SELECT $columns FROM tblproducts WHERE id = ?");
        $stmt->execute([$productId]);
        return $stmt->fetch(PDO::FETCH_ASSOC);
    }

    /** Field name (the part before '|') => value, for every product custom field; '' when unset. */
    private static function customFields(PDO $pdo, int $serviceId, int $productId): array
    {
        $stmt = $pdo->prepare(
            "SELECT f.fieldname, v.value FROM tblcustomfields f
             LEFT JOIN tblcustomfieldsvalues v ON v.fieldid = f.id AND v.relid = ?
             WHERE f.type = 'product' AND f.relid = ? ORDER BY f.sortorder, f.id"
        );
        $stmt->execute([$serviceId, $productId]);
        $fields = [];
        foreach ($stmt->fetchAll(PDO::FETCH_ASSOC) as $row) {
            $fields[self::name($row['fieldname'])] = (string) $row['value'];
        }
        return $fields;
    }

    /**
     * Option name (the part before '|') => value, for every configurable option linked to the product.
     * Dropdown (1) and radio (2): the chosen sub-option's name before '|' ('' if none chosen).
     * Yes/no (3) and quantity (4): the quantity (0 if none chosen).
     */
    private static function configOptions(PDO $pdo, int $serviceId, int $productId): array
    {
        $stmt = $pdo->prepare(
            'SELECT o.optionname, o.optiontype, s.optionname AS choice, hco.qty
             FROM tblproductconfiglinks l
             JOIN tblproductconfigoptions o ON o.gid = l.gid
             LEFT JOIN tblhostingconfigoptions hco ON hco.configid = o.id AND hco.relid = ?
             LEFT JOIN tblproductconfigoptionssub s ON s.id = hco.optionid
             WHERE l.pid = ? ORDER BY o.`order`, o.id'
        );
        $stmt->execute([$serviceId, $productId]);
        $options = [];
        foreach ($stmt->fetchAll(PDO::FETCH_ASSOC) as $row) {
            $options[self::name($row['optionname'])] = in_array((int) $row['optiontype'], [3, 4], true)
                ? (int) $row['qty']
                : self::name((string) $row['choice']);
        }
        return $options;
    }

    /** The server keys; empty values and server=false when the service has no server. */
    private static function server(PDO $pdo, int $serverId, string $module): array
    {
        $stmt = $pdo->prepare('SELECT * FROM tblservers WHERE id = ?');
        $stmt->execute([$serverId]);
        $server = $stmt->fetch(PDO::FETCH_ASSOC);
        if ($server === false) {
            return [
                'server' => false, 'serverip' => '', 'serverhostname' => '', 'serverusername' => '',
                'serverpassword' => '', 'serveraccesshash' => '', 'serversecure' => false,
                'serverhttpprefix' => 'http', 'serverport' => '',
            ];
        }
        $secure = $server['secure'] === 'on';
        return [
            'server' => true,
            'serverip' => $server['ipaddress'],
            'serverhostname' => $server['hostname'],
            'serverusername' => $server['username'],
            'serverpassword' => decrypt($server['password']),
            'serveraccesshash' => $server['accesshash'],
            'serversecure' => $secure,
            'serverhttpprefix' => $secure ? 'https' : 'http',
            'serverport' => $server['port'] !== null ? (string) $server['port'] : self::defaultPort($module, $secure),
        ];
    }

    /** With no port on the server, WHMCS uses the module's MetaData DefaultSSLPort / DefaultNonSSLPort. */
    private static function defaultPort(string $module, bool $secure): string
    {
        $metaData = $module . '_MetaData';
        $meta = function_exists($metaData) ? $metaData() : [];
        return (string) ($meta[$secure ? 'DefaultSSLPort' : 'DefaultNonSSLPort'] ?? '');
    }

    /** WHMCS's "name|Display" convention: modules see the part before the first '|'. */
    public static function name(string $name): string
    {
        return explode('|', $name, 2)[0];
    }
}
