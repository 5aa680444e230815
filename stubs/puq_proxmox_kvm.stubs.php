<?php

// Stubs for puq_proxmox_kvm

namespace PuqProxmoxKvm {
    /**
     * The module's cron: `$kvm->cron()`.
     */
    class Cron {
        public function __construct() {}

        /**
         * The tasks this version runs: `name`, `label`, `description`, `default_interval` (minutes).
         *
         * @return array
         */
        public static function availableTasks(): array {}

        /**
         * Claims the emails waiting to be sent ("VM is ready", "Upgrade Email"), oldest first, at
         * most `$limit` (default 100), for this process for 2 minutes, so a second cron process
         * does not send them too: each an array with `id`, `service_id`, `template` (the WHMCS
         * email template's name) and `attempts`. Send each with `localAPI('SendEmail')` and report
         * the result with `emailSent()`.
         *
         * @throws Exception\ValidationException for a limit outside 1-1000
         *
         * @param int|null $limit
         * @return array
         */
        public function claimEmails(?int $limit = null): array {}

        /**
         * Records the result of sending email `$id`: sent when `$error` is null, else one failed
         * attempt with its reason. Returns true when the email is given up (it failed
         * `MAX_ATTEMPTS` = 5 times: the VM's log records it; write the reason to the module log).
         *
         * @throws Exception\ValidationException for an id that is not positive
         *
         * @param int $id
         * @param string|null $error
         * @return bool
         */
        public function emailSent(int $id, ?string $error = null): bool {}

        /**
         * The module's Proxmox server entries: server id => the password as WHMCS stores it
         * (encrypted; decrypt each with WHMCS's `decrypt()` and pass them to `run()` as
         * `server_passwords`).
         *
         * @return array
         */
        public function encryptedServerPasswords(): array {}

        /**
         * Runs the due tasks (or `task`, or all with `force`) and returns the report:
         * `skipped` and `tasks` (task, status, duration_ms, processed, errors, details, message).
         *
         * `$options`: `trigger` (`hook` from WHMCS's AfterCronJob: runs only in hook mode; `cli`),
         * `task`, `force`, `no_lock`, `server_passwords` (server id => the decrypted password of
         * each Proxmox server entry). `$onEvent` receives each line of live output as it happens:
         * an array with `level`, `service_id`, `message` and `module_log` (an entry to write to
         * WHMCS's module log, or null). Emails the run earned wait in `claimEmails()`.
         *
         * @throws Exception\ValidationException for an unknown task or trigger
         *
         * @param array $options
         * @param callable|null $on_event
         * @return array
         */
        public function run(array $options, ?callable $on_event = null): array {}

        /**
         * Every available task with its interval, last run, status, duration and lock holder.
         *
         * @return array
         */
        public function tasks(): array {}
    }

    /**
     * DNS name helpers.
     */
    class Dns {
        public function __construct() {}

        /**
         * Whether the record `$name` belongs in `$zone`: the zone is a label-aligned suffix of
         * the name (`a-foo.example.com` is not in `foo.example.com`), compared case-insensitively
         * with trailing dots ignored; a name equal to the zone matches.
         *
         * @param string $zone
         * @param string $name
         * @return bool
         */
        public static function zoneMatches(string $zone, string $name): bool {}
    }

    /**
     * The DNS zones (Cloudflare, HestiaCP, PowerDNS) and the sync of a service's records. Get it
     * with `$module->dnsZones()`. Secrets (API token, admin password, API key) never come back:
     * they read `KEEP`; saving `KEEP` or an empty secret keeps the stored one.
     */
    class DnsZones {
        public function __construct() {}

        /**
         * Adds a zone from `zone`, `type` (`cloudflare`, `hestiacp`, `powerdns`) and the
         * provider's fields; returns it as `get()` shows it.
         *
         * @throws Exception\ValidationException naming the field and the fix
         * @throws Exception\ConflictException when the zone is already configured at that provider
         *
         * @param array $zone
         * @return array
         */
        public function create(array $zone): array {}

        /**
         * Removes zone `$id` from the module; records already written at the provider stay.
         *
         * @throws Exception\NotFoundException when there is no such zone
         *
         * @param int $id
         * @return void
         */
        public function delete(int $id): void {}

        /**
         * Whether `$ip` is on the `dns_endpoint_allow` setting (empty: nobody is).
         *
         * @param string $ip
         * @return bool
         */
        public function endpointAllows(string $ip): bool {}

        /**
         * One zone, as `list()` shows it.
         *
         * @throws Exception\NotFoundException when there is no such zone
         *
         * @param int $id
         * @return array
         */
        public function get(int $id): array {}

        /**
         * The forward and reverse name of every assigned address of the active services, as the
         * legacy `dns.php` answers: a list of `forward`, `ip`, `reverse`.
         *
         * @return mixed
         */
        public function legacyRecords(): mixed {}

        /**
         * Every zone, by id: `id`, `zone`, `type`, `type_label` and the provider's fields, with
         * `KEEP` in place of each secret.
         *
         * @throws Exception\DatabaseException when a zone's credentials cannot be decrypted
         *
         * @return mixed
         */
        public function list(): mixed {}

        /**
         * The providers and their form fields: a list of `type`, `label` and `fields` (each
         * `name`, `label`, `secret`, `required`, `hint`).
         *
         * @return mixed
         */
        public static function providers(): mixed {}

        /**
         * Writes the DNS records of service `$serviceId` to every matching zone.
         *
         * `$operation`: `create` (deploy: add what is missing), `replace` (change package, Set DNS
         * records: the VM's names end up exactly matching its addresses) or `delete` (terminate).
         * `$onEvent`, when given, is called with each record's outcome as it happens: an array
         * with `line` (`fwd OK create vm.example.com A 192.0.2.10 (zone example.com, PowerDNS)`),
         * `kind` (`fwd`/`rev`), `ok`, `action`, `record`, `zone`, `provider`, `error`.
         *
         * An exception thrown by `$onEvent` stops further calls to it and is rethrown once the
         * sync has finished (the records are written either way).
         *
         * Provider failures never throw: the returned report lists `zones` (each with
         * `requests`, `changes`, `error`), `events`, the `ok` and `errors` counts and a `summary`.
         *
         * @throws Exception\NotFoundException when the service or its VM row does not exist
         * @throws Exception\ValidationException for an unknown operation or a VM name that is not a DNS name
         *
         * @param int $service_id
         * @param string $operation
         * @param callable|null $on_event
         * @return array
         */
        public function syncService(int $service_id, string $operation, ?callable $on_event = null): array {}

        /**
         * Checks the provider answers, accepts the credentials and has the zone under its name.
         * Returns `ok` (bool) and `message` (the provider's own words on failure).
         *
         * @throws Exception\NotFoundException when there is no such zone
         *
         * @param int $id
         * @return array
         */
        public function test(int $id): array {}

        /**
         * Saves changes to zone `$id`; fields not given keep their value, a secret given as
         * `KEEP` or empty keeps the stored one.
         *
         * @throws Exception\ValidationException naming the field and the fix
         * @throws Exception\NotFoundException when there is no such zone
         *
         * @param int $id
         * @param array $zone
         * @return array
         */
        public function update(int $id, array $zone): array {}
    }

    /**
     * IP pools of the Proxmox servers and the addresses services hold. Get it with
     * `$kvm->ipPools()`.
     */
    class IpPools {
        public function __construct() {}

        /**
         * The addresses the service holds, as `allocate()` returns them.
         *
         * @param int $service_id
         * @return array
         */
        public function addresses(int $service_id): array {}

        /**
         * Gives the service the addresses its product and configurable options ask for and
         * records them in tblhosting (dedicatedip: the first IPv4; assignedips: the rest).
         * Idempotent; all or nothing. Returns each address with `family`, `address`, `bridge`,
         * `vlan`, `gateway`, `prefix`, `dns` (list), `pool_id` (null for the server's list) and
         * `source` (`pool` or `list`).
         *
         * @throws Exception\ConflictException naming the server, family, needed and free counts
         * @throws Exception\NotFoundException for an unknown service
         *
         * @param int $service_id
         * @return array
         */
        public function allocate(int $service_id): array {}

        /**
         * Creates a pool from `server_id`, `type` (`IPv4`/`IPv6`), `bridge`, `vlan` (0 =
         * untagged), `gateway`, `mask` (prefix length), `dns1`, `dns2`, `address_start`,
         * `address_stop`. Returns the new pool's id.
         *
         * @throws Exception\ValidationException naming the field and the fix (overlaps name the other pool)
         *
         * @param array $fields
         * @return int
         */
        public function create(array $fields): int {}

        /**
         * Deletes a pool that has no address assigned.
         *
         * @throws Exception\NotFoundException when there is no such pool
         * @throws Exception\ConflictException naming how many addresses and which services hold them
         *
         * @param int $id
         * @return void
         */
        public function delete(int $id): void {}

        /**
         * One pool: its fields plus `server_name`, `total`, `used`, `free`, `usage_percent` and
         * `rdns_zone`. `total` and `free` are strings when above PHP_INT_MAX (large IPv6 pools).
         *
         * @throws Exception\NotFoundException when there is no such pool
         *
         * @param int $id
         * @return array
         */
        public function get(int $id): array {}

        /**
         * Every pool, as `get()` returns them, by server then id.
         *
         * @return array
         */
        public function list(): array {}

        /**
         * Returns every address of the service to its source and clears them from tblhosting.
         * Returns how many were released.
         *
         * @param int $service_id
         * @return int
         */
        public function release(int $service_id): int {}

        /**
         * Change package: brings the service to exactly what its package asks for now, keeping
         * the addresses it has where it can. Returns the addresses as `allocate()` does.
         *
         * @throws Exception\ConflictException when the new counts cannot be met (nothing changes)
         *
         * @param int $service_id
         * @return array
         */
        public function resize(int $service_id): array {}

        /**
         * The Proxmox KVM servers a pool can belong to: `id`, `name`, `hostname`, by name.
         *
         * @return array
         */
        public function servers(): array {}

        /**
         * Changes the fields given; the others keep their value. Addresses already handed out
         * keep what they were given.
         *
         * @throws Exception\NotFoundException when there is no such pool
         * @throws Exception\ValidationException naming the field and the fix
         *
         * @param int $id
         * @param array $fields
         * @return void
         */
        public function update(int $id, array $fields): void {}
    }

    /**
     * The module connected to the WHMCS database. Get one with `Module::connect()`.
     */
    class Module {
        public function __construct() {}

        /**
         * Creates or upgrades the module's tables in place; safe to repeat, never loses a row.
         * Returns `message`, and `migrations` with `from`, `to` (schema versions) and `applied`.
         *
         * @return array
         */
        public function activate(): array {}

        /**
         * Build details: `version`, `revision`, `php_api` (the PHP API number the extension was
         * built for) and `php_version`.
         *
         * @return array
         */
        public static function buildInfo(): array {}

        /**
         * Connects to the WHMCS database and checks it answers.
         *
         * `$db` holds WHMCS's configuration.php settings: `host` ($db_host, may carry `:port`),
         * `port` ($db_port), `user` ($db_username), `password` ($db_password), `database`
         * ($db_name), optional `socket`, and `encryption_key` ($cc_encryption_hash), the key
         * material for secrets stored by the module.
         *
         * @throws Exception\ValidationException when a setting is missing or malformed
         * @throws Exception\DatabaseException saying which server and why when it cannot connect
         *
         * @param array $db
         * @return \PuqProxmoxKvm\Module
         */
        public static function connect(array $db): \PuqProxmoxKvm\Module {}

        /**
         * The module's scheduled tasks.
         *
         * @return \PuqProxmoxKvm\Cron
         */
        public function cron(): \PuqProxmoxKvm\Cron {}

        /**
         * The Dashboard's figures: `ip_pools`, `dns_zones` (null while that section has no
         * table) and `kvm_services` (active services of this module's products).
         *
         * @return array
         */
        public function dashboard(): array {}

        /**
         * Drops the module's tables only when the "Delete all database tables" setting is on.
         * Returns `message` and `dropped` (the table names).
         *
         * @return array
         */
        public function deactivate(): array {}

        /**
         * The DNS zones and the sync of a service's records.
         *
         * @return \PuqProxmoxKvm\DnsZones
         */
        public function dnsZones(): \PuqProxmoxKvm\DnsZones {}

        /**
         * IP pools and address allocation.
         *
         * @return \PuqProxmoxKvm\IpPools
         */
        public function ipPools(): \PuqProxmoxKvm\IpPools {}

        /**
         * Product configuration: module settings, product settings, a service's effective values.
         *
         * @return \PuqProxmoxKvm\Products
         */
        public function products(): \PuqProxmoxKvm\Products {}

        /**
         * Proxmox VE operations for a server entry (Test Connection).
         *
         * @return \PuqProxmoxKvm\Proxmox
         */
        public function proxmox(): \PuqProxmoxKvm\Proxmox {}

        /**
         * Validates and saves the settings given (others keep their value); returns all of them.
         * Nothing is saved when any value is invalid.
         *
         * @throws Exception\ValidationException naming the field and its allowed range
         *
         * @param array $values
         * @return array
         */
        public function saveSettings(array $values): array {}

        /**
         * Every setting as `name => value`: `default_timeout`, `heavy_timeout`,
         * `migration_enabled`, `migration_timeout`, `delete_tables_on_deactivate`, `cron_mode`
         * (`hook` or `standalone`), `cron_lock_timeout`, and `interval_<task>` in minutes.
         *
         * @return array
         */
        public function settings(): array {}

        /**
         * The module's version and the git revision it was built from: `0.1.0 (rev 1a2b3c4d5e6f)`.
         *
         * @return string
         */
        public static function version(): string {}

        /**
         * The VMs of the module: the VM Management list and admin actions.
         *
         * @return \PuqProxmoxKvm\Vms
         */
        public function vms(): \PuqProxmoxKvm\Vms {}
    }

    /**
     * Address helpers: reverse names and reverse zones.
     */
    class Net {
        public function __construct() {}

        /**
         * The reverse zone of the network `$ip`/`$prefix`: IPv4 prefixes round down to /24, /16
         * or /8, IPv6 prefixes to a nibble boundary. `('192.168.130.2', 24)` gives
         * `'130.168.192.in-addr.arpa'`; `('2001:db8::1', 32)` gives `'8.b.d.0.1.0.0.2.ip6.arpa'`.
         *
         * @throws Exception\ValidationException for a malformed address, or a prefix shorter than
         * /8 (IPv4) or /4 (IPv6) or longer than the family allows
         *
         * @param string $ip
         * @param int $prefix
         * @return string
         */
        public static function rdnsZone(string $ip, int $prefix): string {}

        /**
         * The PTR owner name of an address, without a trailing dot:
         * `'192.168.1.10'` gives `'10.1.168.192.in-addr.arpa'`.
         *
         * @throws Exception\ValidationException when `$ip` is not an address
         *
         * @param string $ip
         * @return string
         */
        public static function reverseName(string $ip): string {}
    }

    /**
     * Product configuration. Get one with `$module->products()`.
     */
    class Products {
        public function __construct() {}

        /**
         * The 24 module settings as WHMCS's `_ConfigOptions` array: label => `Type`, `Default`,
         * `Size` or `Options`, `Description`.
         *
         * @return array
         */
        public static function configOptions(): array {}

        /**
         * The effective configuration of a service: `service_id`, `product_id`, `values` (key =>
         * value, configurable options applied) and `overridden` (key => option name).
         *
         * @throws Exception\NotFoundException when the service does not exist
         * @throws Exception\ValidationException naming the slot, setting or option that is invalid
         *
         * @param int $service_id
         * @return array
         */
        public function resolve(int $service_id): array {}

        /**
         * Validates and saves product settings (key => value); returns all of them. Nothing is
         * saved when a value is invalid.
         *
         * @throws Exception\ValidationException naming the setting and the fix
         *
         * @param int $product_id
         * @param array $values
         * @return array
         */
        public function saveSettings(int $product_id, array $values): array {}

        /**
         * The product's settings beyond the 24 slots (key => value), defaults filled in.
         *
         * @throws Exception\ValidationException when the product id is not positive
         *
         * @param int $product_id
         * @return array
         */
        public function settings(int $product_id): array {}

        /**
         * The product settings kept beyond the 24 slots, for a form, in order: key => `key`,
         * `label`, `default`, `help`, `type` (`yesno`, `dropdown` with `options`, `text`).
         *
         * @return array
         */
        public static function settingsFields(): array {}
    }

    /**
     * Proxmox VE operations for a WHMCS server entry. Get one with `$module->proxmox()`.
     */
    class Proxmox {
        public function __construct() {}

        /**
         * Test Connection for the server in `$params` (the server module's `$params`:
         * `serverhostname`, `serverip`, `serverport`, `serverusername` (a token id
         * `user@realm!tokenid` or a user `user@realm`), `serverpassword` (decrypted),
         * `serveraccesshash` (`fingerprint=AB:CD:...` to pin a self-signed certificate)).
         *
         * Returns `success`, `error` (empty, or which privileges are missing on which path),
         * `version` (Proxmox VE) and `missing` (`path privilege` strings).
         *
         * @throws Exception\ValidationException naming the server field that is malformed
         * @throws Exception\ProxmoxException when the server cannot be reached or refuses the credentials
         *
         * @param array $params
         * @return array
         */
        public function testConnection(array $params): array {}
    }

    /**
     * Every VM of the module: `$kvm->vms()`.
     */
    class Vms {
        public function __construct() {}

        /**
         * CreateAccount: records the VM in `creation` and returns at once; cron builds it.
         * `$password` is the service's password (sealed for cloud-init).
         *
         * @throws Exception\ConflictException when the service already has a VM
         *
         * @param int $service_id
         * @param string $password
         * @return void
         */
        public function create(int $service_id, string $password): void {}

        /**
         * Deletes the VM row (only in error_terminate or remove); never touches Proxmox or
         * tblhosting.
         *
         * @throws Exception\ConflictException in any other state
         *
         * @param int $service_id
         * @return void
         */
        public function deleteRecord(int $service_id): void {}

        /**
         * A page of the list: `total`, `filtered` and `rows` (service_id, client_id, client,
         * product, server, vm_id, vm_name, vm_status, service_status, ips [ip, rdns],
         * last_error, actions). `$query`: `start`, `length` (1-100), `search` (service id,
         * client, VM name, IP), `sort` (id, client, product, server, vm, vm_status,
         * service_status), `dir` (asc, desc), `service_status`, `vm_status`.
         *
         * @throws Exception\ValidationException naming the bad parameter
         *
         * @param array $query
         * @return array
         */
        public function list(array $query): array {}

        /**
         * The VM's run log: `vm_status`, `last_failure` (for the red banner, or null) and `runs`
         * (newest first: kind, started_at, finished_at, result, error, steps).
         *
         * @param int $service_id
         * @return array
         */
        public function log(int $service_id): array {}

        /**
         * ChangePackage: queues the change-package pipeline (only from ready, or when already
         * queued); cron applies the new package.
         *
         * @throws Exception\ConflictException when the VM is not ready
         *
         * @param int $service_id
         * @return void
         */
        public function queueChangePackage(int $service_id): void {}

        /**
         * The Set DNS records button: queues a full DNS resync of a ready VM; cron runs it.
         *
         * @throws Exception\ConflictException when the VM is not ready
         *
         * @param int $service_id
         * @return void
         */
        public function queueDnsResync(int $service_id): void {}

        /**
         * Reinstall: queues the removal of the old VM and a fresh deploy from the template
         * (addresses, VMID and MAC kept), only from ready.
         *
         * @throws Exception\ConflictException when the VM is not ready
         *
         * @param int $service_id
         * @return void
         */
        public function queueReinstall(int $service_id): void {}

        /**
         * The raw `puqProxmoxKVM_vm_info` row, column => text (or null).
         *
         * @param int $service_id
         * @return array
         */
        public function record(int $service_id): array {}

        /**
         * Redeploy (only when the VM is not ready): destroys the VM on Proxmox after the
         * ownership check, releases its addresses, clears its log and sets `creation`.
         * `$serverPasswords`: server id => the decrypted password of each Proxmox server entry.
         *
         * @throws Exception\ConflictException when the VM is ready or is not this service's
         *
         * @param int $service_id
         * @param array $server_passwords
         * @return void
         */
        public function redeploy(int $service_id, array $server_passwords): void {}

        /**
         * Switches the VM to a re-runnable state (ready, creation, set_ip, change_package,
         * set_dns_records, terminate, remove); cron picks it up on its next run.
         *
         * @throws Exception\ValidationException for any other state
         *
         * @param int $service_id
         * @param string $status
         * @return void
         */
        public function reset(int $service_id, string $status): void {}

        /**
         * SuspendAccount (`$running` false: stop the VM) and UnsuspendAccount (true: start it),
         * waiting for Proxmox within the default API timeout; recorded in the run log.
         *
         * @param int $service_id
         * @param bool $running
         * @param int $server_id
         * @param string $server_password
         * @return void
         */
        public function setPower(int $service_id, bool $running, int $server_id, string $server_password): void {}

        /**
         * The states for the page's filters and Reset dialog: `vm_states`, `reset_targets`,
         * `service_states`.
         *
         * @return array
         */
        public static function states(): array {}

        /**
         * TerminateAccount: asks Proxmox to stop the VM now (best effort, with the server entry's
         * decrypted password) and queues the terminate pipeline for cron. Returns whether a VM
         * was queued (false: the service had none; its addresses are released at once).
         *
         * @param int $service_id
         * @param int $server_id
         * @param string $server_password
         * @return bool
         */
        public function terminate(int $service_id, int $server_id, string $server_password): bool {}

        /**
         * Writes raw values to the row after checking each against its column (numbers, dates,
         * JSON that parses, a known status); nothing is written if one fails.
         *
         * @throws Exception\ValidationException naming the column
         *
         * @param int $service_id
         * @param array $changes
         * @return void
         */
        public function updateRecord(int $service_id, array $changes): void {}
    }
}

namespace PuqProxmoxKvm\Exception {
    /**
     * The request clashes with the current state (duplicate, still in use, wrong VM state).
     */
    class ConflictException extends \PuqProxmoxKvm\Exception\ModuleException {
        public function __construct() {}
    }

    /**
     * The WHMCS database refused, could not be reached, or holds something unexpected.
     */
    class DatabaseException extends \PuqProxmoxKvm\Exception\ModuleException {
        public function __construct() {}
    }

    /**
     * Base class of every exception the module throws. Catch this to handle them all.
     */
    class ModuleException extends \Exception {
        public function __construct() {}
    }

    /**
     * The record asked for does not exist.
     */
    class NotFoundException extends \PuqProxmoxKvm\Exception\ModuleException {
        public function __construct() {}
    }

    /**
     * A DNS provider (Cloudflare, PowerDNS, HestiaCP) refused or could not be reached.
     */
    class ProviderException extends \PuqProxmoxKvm\Exception\ModuleException {
        public function __construct() {}
    }

    /**
     * Proxmox VE refused or could not be reached.
     */
    class ProxmoxException extends \PuqProxmoxKvm\Exception\ModuleException {
        public function __construct() {}
    }

    /**
     * A value is not acceptable. `getField()` names the field; the message says the fix.
     */
    class ValidationException extends \PuqProxmoxKvm\Exception\ModuleException {
        public function __construct() {}

        /**
         * The name of the field that failed validation (`gateway`, `default_timeout`, ...).
         *
         * @return string
         */
        public function getField(): string {}
    }
}
