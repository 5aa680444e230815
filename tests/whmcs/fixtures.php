<?php
/**
 * Rows for WhmcsHarness. Every fixture writes a complete row: each NOT NULL column without a default
 * gets a sensible value, and $f overrides any column (an unknown column name is an error, so a typo
 * cannot pass silently). insertRow() enforces both, so a fixture that misses a column fails loudly.
 */
trait WhmcsFixtures
{
    private int $fixtureSequence = 0;
    /** @var array<string, array<string, bool>> table => column => required (NOT NULL, no default, not auto) */
    private array $fixtureColumns = [];
    /** @var array<string, int> lazily created client, product and server that fixtures default to */
    private array $fixtureDefaults = [];

    /** Clients: an Active client with a unique email. Returns tblclients.id. */
    public function addClient(array $f = []): int
    {
        $n = ++$this->fixtureSequence;
        return $this->insertRow('tblclients', $f + [
            'uuid' => self::uuid(), 'firstname' => 'Test', 'lastname' => "Client$n", 'companyname' => '',
            'email' => "client$n@example.com", 'address1' => '1 Test Street', 'address2' => '', 'city' => 'Testville',
            'state' => 'Test State', 'postcode' => '12345', 'country' => 'US', 'phonenumber' => '+1.5555550100',
            'password' => password_hash('client-password', PASSWORD_DEFAULT), 'authmodule' => '', 'authdata' => '',
            'currency' => 1, 'defaultgateway' => '', 'credit' => '0.00', 'taxexempt' => 0, 'latefeeoveride' => 0,
            'overideduenotices' => 0, 'separateinvoices' => 0, 'disableautocc' => 0, 'datecreated' => date('Y-m-d'),
            'notes' => '', 'billingcid' => 0, 'securityqid' => 0, 'securityqans' => '', 'groupid' => 0,
            'cardlastfour' => '', 'cardnum' => '', 'startdate' => '', 'expdate' => '', 'issuenumber' => '',
            'bankname' => '', 'banktype' => '', 'bankcode' => '', 'bankacct' => '', 'gatewayid' => '',
            'ip' => '127.0.0.1', 'host' => 'localhost', 'status' => 'Active', 'language' => '', 'pwresetkey' => '',
            'emailoptout' => 0, 'overrideautoclose' => 0,
        ] + self::timestamps());
    }

    /** Servers of this module (type puqProxmoxKVM). 'password' is given in clear and stored with encrypt(). */
    public function addServer(array $f = []): int
    {
        $n = ++$this->fixtureSequence;
        $f['password'] = encrypt($f['password'] ?? 'proxmox-password');
        $nameservers = [];
        foreach (range(1, 5) as $i) {
            $nameservers["nameserver$i"] = '';
            $nameservers["nameserver{$i}ip"] = '';
        }
        return $this->insertRow('tblservers', $f + [
            'name' => "Proxmox $n", 'ipaddress' => '127.0.0.1', 'assignedips' => '', 'hostname' => "pve$n.test",
            'monthlycost' => '0.00', 'noc' => '', 'statusaddress' => '', 'maxaccounts' => 0,
            'type' => self::SERVER_MODULE, 'username' => 'root@pam', 'accesshash' => '', 'secure' => 'on',
            'port' => 8006, 'active' => 1, 'disabled' => 0,
        ] + $nameservers);
    }

    /** Products of this module (servertype puqProxmoxKVM, type server), in a product group created on first use. */
    public function addProduct(array $f = []): int
    {
        $n = ++$this->fixtureSequence;
        $configOptions = [];
        foreach (range(1, 24) as $i) {
            $configOptions["configoption$i"] = '';
        }
        return $this->insertRow('tblproducts', $f + [
            'type' => 'server', 'gid' => $f['gid'] ?? $this->defaultId('productgroup'), 'name' => "KVM Product $n",
            'slug' => "kvm-product-$n", 'description' => '', 'hidden' => 0, 'showdomainoptions' => 0, 'stockcontrol' => 0,
            'proratabilling' => 0, 'proratadate' => 0, 'proratachargenextmonth' => 0, 'paytype' => 'recurring',
            'allowqty' => 0, 'subdomain' => '', 'autosetup' => '', 'servertype' => self::SERVER_MODULE, 'servergroup' => 0,
            'freedomain' => '', 'freedomainpaymentterms' => '', 'freedomaintlds' => '', 'recurringcycles' => 0,
            'autoterminatedays' => 0, 'configoptionsupgrade' => 0, 'billingcycleupgrade' => '', 'overagesenabled' => '',
            'overagesdisklimit' => 0, 'overagesbwlimit' => 0, 'overagesdiskprice' => '0.0000', 'overagesbwprice' => '0.0000',
            'tax' => 0, 'affiliateonetime' => 0, 'affiliatepaytype' => '', 'affiliatepayamount' => '0.00', 'retired' => 0,
            'is_featured' => 0, 'color' => '', 'tagline' => '', 'short_description' => '',
        ] + $configOptions + self::timestamps());
    }

    /**
     * Services (tblhosting): Active, monthly, for the default client, product and server unless
     * userid / packageid / server are given. 'password' is given in clear and stored with encrypt().
     */
    public function addService(array $f = []): int
    {
        $n = ++$this->fixtureSequence;
        $f['password'] = encrypt($f['password'] ?? "Service-pass-$n");
        $nextDue = date('Y-m-d', strtotime('+1 month'));
        return $this->insertRow('tblhosting', $f + [
            'userid' => $f['userid'] ?? $this->defaultId('client'), 'orderid' => 0,
            'packageid' => $f['packageid'] ?? $this->defaultId('product'), 'server' => $f['server'] ?? $this->defaultId('server'),
            'regdate' => date('Y-m-d'), 'domain' => "vps$n.example.com", 'paymentmethod' => 'mailin', 'billingcycle' => 'Monthly',
            'nextduedate' => $nextDue, 'nextinvoicedate' => $nextDue, 'domainstatus' => 'Active', 'username' => "vps$n",
            'notes' => '', 'subscriptionid' => '', 'promoid' => 0, 'suspendreason' => '', 'overideautosuspend' => 0,
            'overidesuspenduntil' => '0000-00-00', 'dedicatedip' => '', 'assignedips' => '', 'ns1' => '', 'ns2' => '',
        ] + self::timestamps());
    }

    /**
     * A configurable option of $productId, in the product's option group (created and linked on first
     * use). $subOptions are the choices' names, "value|Display" allowed; a quantity or yes/no option
     * has one. $optionType: 1 dropdown, 2 radio, 3 yes/no, 4 quantity. Returns tblproductconfigoptions.id.
     */
    public function addConfigOption(int $productId, string $optionName, array $subOptions, int $optionType = 1, int $qtyMin = 0, int $qtyMax = 0): int
    {
        $stmt = $this->pdo()->prepare('SELECT gid FROM tblproductconfiglinks WHERE pid = ? ORDER BY id LIMIT 1');
        $stmt->execute([$productId]);
        $groupId = (int) $stmt->fetchColumn();
        if ($groupId === 0) {
            $groupId = $this->insertRow('tblproductconfiggroups', ['name' => "Options of product $productId", 'description' => '']);
            $this->insertRow('tblproductconfiglinks', ['gid' => $groupId, 'pid' => $productId]);
        }
        $optionId = $this->insertRow('tblproductconfigoptions', [
            'gid' => $groupId, 'optionname' => $optionName, 'optiontype' => (string) $optionType,
            'qtyminimum' => $qtyMin, 'qtymaximum' => $qtyMax, 'hidden' => 0,
        ]);
        foreach (array_values($subOptions) as $order => $subOption) {
            $this->insertRow('tblproductconfigoptionssub', [
                'configid' => $optionId, 'optionname' => $subOption, 'sortorder' => $order, 'hidden' => 0,
            ]);
        }
        return $optionId;
    }

    /**
     * The service's value of a configurable option, named as $params['configoptions'] names it (the part
     * before '|'). Dropdown / radio: $value names a choice (again the part before '|'). Yes/no and
     * quantity: $value is the quantity.
     */
    public function setServiceConfigOption(int $serviceId, string $optionName, string|int $value): void
    {
        $stmt = $this->pdo()->prepare(
            'SELECT o.id, o.optionname, o.optiontype FROM tblhosting h
             JOIN tblproductconfiglinks l ON l.pid = h.packageid
             JOIN tblproductconfigoptions o ON o.gid = l.gid WHERE h.id = ?'
        );
        $stmt->execute([$serviceId]);
        $option = self::findByName($stmt->fetchAll(PDO::FETCH_ASSOC), 'optionname', $optionName, "configurable option of service $serviceId");
        $stmt = $this->pdo()->prepare('SELECT id, optionname FROM tblproductconfigoptionssub WHERE configid = ? ORDER BY sortorder, id');
        $stmt->execute([$option['id']]);
        $subs = $stmt->fetchAll(PDO::FETCH_ASSOC);
        $byQuantity = in_array((int) $option['optiontype'], [3, 4], true);
        $sub = $byQuantity ? ($subs[0] ?? null) : self::findByName($subs, 'optionname', (string) $value, "choice of $optionName");

        $this->pdo()->prepare('DELETE FROM tblhostingconfigoptions WHERE relid = ? AND configid = ?')->execute([$serviceId, $option['id']]);
        $this->insertRow('tblhostingconfigoptions', [
            'relid' => $serviceId, 'configid' => $option['id'], 'optionid' => (int) ($sub['id'] ?? 0),
            'qty' => $byQuantity ? (int) $value : 0,
        ]);
    }

    /** A product custom field (text, admin-only unless overridden). Returns tblcustomfields.id. */
    public function addCustomField(int $productId, string $fieldName, array $f = []): int
    {
        return $this->insertRow('tblcustomfields', $f + [
            'type' => 'product', 'relid' => $productId, 'fieldname' => $fieldName, 'fieldtype' => 'text',
            'description' => '', 'fieldoptions' => '', 'regexpr' => '', 'adminonly' => 'on', 'required' => '',
            'showorder' => '', 'showinvoice' => '',
        ] + self::timestamps());
    }

    /** Sets the service's value of a product custom field, named as $params['customfields'] names it. */
    public function setServiceCustomField(int $serviceId, string $fieldName, string $value): void
    {
        $stmt = $this->pdo()->prepare(
            "SELECT f.id, f.fieldname FROM tblhosting h
             JOIN tblcustomfields f ON f.type = 'product' AND f.relid = h.packageid WHERE h.id = ?"
        );
        $stmt->execute([$serviceId]);
        $field = self::findByName($stmt->fetchAll(PDO::FETCH_ASSOC), 'fieldname', $fieldName, "custom field of service $serviceId");
        $this->pdo()->prepare('DELETE FROM tblcustomfieldsvalues WHERE fieldid = ? AND relid = ?')->execute([$field['id'], $serviceId]);
        $this->insertRow('tblcustomfieldsvalues', ['fieldid' => $field['id'], 'relid' => $serviceId, 'value' => $value] + self::timestamps());
    }

    /** An email template (default type product, default language). Returns tblemailtemplates.id. */
    public function addEmailTemplate(string $name, array $f = []): int
    {
        return $this->insertRow('tblemailtemplates', $f + [
            'type' => 'product', 'name' => $name, 'subject' => $name, 'message' => "<p>$name</p>", 'attachments' => '',
            'fromname' => '', 'fromemail' => '', 'disabled' => 0, 'custom' => 1, 'language' => '', 'copyto' => '',
            'blind_copy_to' => '', 'plaintext' => 0,
        ] + self::timestamps());
    }

    /** Sets a tblconfiguration setting (e.g. ModuleDebugMode '' to turn module logging off). */
    public function setConfiguration(string $setting, string $value): void
    {
        $this->pdo()->prepare(
            'INSERT INTO tblconfiguration (setting, value, created_at, updated_at) VALUES (?, ?, NOW(), NOW())
             ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = NOW()'
        )->execute([$setting, $value]);
    }

    /**
     * Inserts $row into a WHMCS table and returns its id. Fails on a column the table lacks and on a
     * missing NOT NULL column that has no default.
     */
    public function insertRow(string $table, array $row): int
    {
        $columns = $this->fixtureColumns[$table] ??= $this->requiredColumns($table);
        if ($unknown = array_diff_key($row, $columns)) {
            throw new InvalidArgumentException("$table has no column " . implode(', ', array_keys($unknown)));
        }
        if ($missing = array_diff_key(array_filter($columns), $row)) {
            throw new LogicException("a $table row needs " . implode(', ', array_keys($missing)));
        }
        $names = implode(', ', array_map(static fn (string $c): string => "`$c`", array_keys($row)));
        $marks = implode(', ', array_fill(0, count($row), '?'));
        $this->pdo()->prepare("INSERT INTO `$table` ($names) VALUES ($marks)")->execute(array_values($row));
        return (int) $this->pdo()->lastInsertId();
    }

    /** What every WHMCS has before a module sees it: admin 1, the default currency, module logging on. */
    private function seed(): void
    {
        $this->pdo()->exec(
            'CREATE TABLE harness_localapi_calls (
                id INT AUTO_INCREMENT PRIMARY KEY, command VARCHAR(64) NOT NULL, request MEDIUMTEXT NOT NULL,
                admin_user VARCHAR(64) NOT NULL, response MEDIUMTEXT NOT NULL,
                created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)'
        );
        $this->insertRow('tbladmins', [
            'id' => 1, 'uuid' => self::uuid(), 'roleid' => 1, 'username' => 'admin',
            'passwordhash' => password_hash('admin-password', PASSWORD_DEFAULT), 'authmodule' => '', 'authdata' => '',
            'firstname' => 'Harness', 'lastname' => 'Admin', 'email' => 'admin@example.com', 'signature' => '',
            'notes' => '', 'template' => 'blend', 'language' => 'english', 'disabled' => 0, 'loginattempts' => 0,
            'supportdepts' => '', 'ticketnotifications' => '', 'homewidgets' => '', 'password_reset_data' => '',
            'hidden_widgets' => '', 'widget_order' => '',
        ] + self::timestamps());
        $this->insertRow('tblcurrencies', ['code' => 'USD', 'prefix' => '$', 'suffix' => ' USD', 'format' => 1, 'rate' => '1.00000', 'default' => 1]);
        foreach (['ModuleDebugMode' => 'on', 'CompanyName' => 'Harness Hosting', 'SystemURL' => 'http://127.0.0.1/', 'Language' => 'english'] as $setting => $value) {
            $this->setConfiguration($setting, $value);
        }
    }

    private function defaultId(string $kind): int
    {
        return $this->fixtureDefaults[$kind] ??= match ($kind) {
            'client' => $this->addClient(),
            'product' => $this->addProduct(),
            'server' => $this->addServer(),
            'productgroup' => $this->insertRow('tblproductgroups', [
                'name' => 'KVM VPS', 'slug' => 'kvm-vps', 'orderfrmtpl' => '', 'disabledgateways' => '', 'hidden' => 0,
            ] + self::timestamps()),
        };
    }

    /** @return array<string, bool> column => required */
    private function requiredColumns(string $table): array
    {
        $stmt = $this->pdo()->prepare(
            "SELECT COLUMN_NAME, IS_NULLABLE = 'NO' AND COLUMN_DEFAULT IS NULL AND EXTRA NOT LIKE '%auto_increment%'
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?"
        );
        $stmt->execute([$table]);
        $columns = array_map('boolval', $stmt->fetchAll(PDO::FETCH_KEY_PAIR));
        if ($columns === []) {
            throw new InvalidArgumentException("no table $table in the harness database");
        }
        return $columns;
    }

    /** The row whose $key equals $name or starts with "$name|". */
    private static function findByName(array $rows, string $key, string $name, string $what): array
    {
        foreach ($rows as $row) {
            if ($row[$key] === $name || WhmcsServerParams::name($row[$key]) === $name) {
                return $row;
            }
        }
        throw new InvalidArgumentException("no $what named $name");
    }

    private static function timestamps(): array
    {
        $now = date('Y-m-d H:i:s');
        return ['created_at' => $now, 'updated_at' => $now];
    }

    private static function uuid(): string
    {
        $hex = bin2hex(random_bytes(16));
        return sprintf('%s-%s-4%s-%s-%s', substr($hex, 0, 8), substr($hex, 8, 4), substr($hex, 13, 3), substr($hex, 16, 4), substr($hex, 20, 12));
    }
}
