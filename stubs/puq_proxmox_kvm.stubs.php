<?php

// Stubs for puq_proxmox_kvm

namespace PuqProxmoxKvm {
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
