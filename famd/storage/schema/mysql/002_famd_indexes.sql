-- famd's own additions: indexes for its lookups, and its tables.
-- Nothing existing is changed; every object is named famd_*.
CREATE INDEX IF NOT EXISTS `famd_accounts_username_domain_index` ON `accounts` (`username`, `domain`);
CREATE INDEX IF NOT EXISTS `famd_accounts_confirmation_key_index` ON `accounts` (`confirmation_key`);
CREATE INDEX IF NOT EXISTS `famd_accounts_activated_creation_time_index` ON `accounts` (`activated`, `creation_time`);
CREATE INDEX IF NOT EXISTS `famd_passwords_account_id_index` ON `passwords` (`account_id`);
CREATE INDEX IF NOT EXISTS `famd_nonces_nonce_index` ON `nonces` (`nonce`);
CREATE INDEX IF NOT EXISTS `famd_nonces_account_id_index` ON `nonces` (`account_id`);
CREATE INDEX IF NOT EXISTS `famd_nonces_updated_at_index` ON `nonces` (`updated_at`);
CREATE INDEX IF NOT EXISTS `famd_admins_account_id_index` ON `admins` (`account_id`);
CREATE INDEX IF NOT EXISTS `famd_aliases_alias_index` ON `aliases` (`alias`);
CREATE INDEX IF NOT EXISTS `famd_aliases_account_id_index` ON `aliases` (`account_id`);
CREATE INDEX IF NOT EXISTS `famd_phone_change_codes_account_id_index` ON `phone_change_codes` (`account_id`);
CREATE INDEX IF NOT EXISTS `famd_activation_expirations_account_id_index` ON `activation_expirations` (`account_id`);
CREATE INDEX IF NOT EXISTS `famd_email_changed_hash_index` ON `email_changed` (`hash`);
CREATE TABLE IF NOT EXISTS `famd_settings` (
  `name` varchar(64) NOT NULL,
  `value` varchar(255) NOT NULL,
  PRIMARY KEY (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE IF NOT EXISTS `famd_code_failures` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `scope` varchar(191) NOT NULL,
  `created_at` datetime NOT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE INDEX IF NOT EXISTS `famd_code_failures_scope_created_at_index` ON `famd_code_failures` (`scope`, `created_at`);
