<?php

// Stubs for puq_proxmox_kvm

namespace PuqProxmoxKvm {
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
