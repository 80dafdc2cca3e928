-- The concepts FAM 2.x added, under FAM 2.x's table and column names and
-- types, beside the 2021 tables (which keep their names and meaning:
-- Flexisip and 2021 tools read them).  Only additions: new tables, and new
-- columns that are nullable or have a default.  Account-creation tokens stay
-- in `tokens` for both API generations; a token made without a device (by
-- an administrator, or traded for a validated request token) has empty pn_*
-- values, since the 2021 columns are NOT NULL.
ALTER TABLE `accounts` ADD COLUMN IF NOT EXISTS `blocked` tinyint(1) NOT NULL DEFAULT 0;
ALTER TABLE `accounts` ADD COLUMN IF NOT EXISTS `display_name` varchar(255) DEFAULT NULL;
ALTER TABLE `accounts` ADD COLUMN IF NOT EXISTS `dtmf_protocol` varchar(255) DEFAULT NULL;
ALTER TABLE `tokens` ADD COLUMN IF NOT EXISTS `account_id` int(10) unsigned DEFAULT NULL;
ALTER TABLE `tokens` ADD COLUMN IF NOT EXISTS `ip` varchar(255) DEFAULT NULL;
ALTER TABLE `tokens` ADD COLUMN IF NOT EXISTS `user_agent` varchar(255) DEFAULT NULL;
ALTER TABLE `tokens` ADD CONSTRAINT `account_creation_tokens_account_id_foreign` FOREIGN KEY IF NOT EXISTS (`account_id`) REFERENCES `accounts` (`id`) ON DELETE CASCADE;
ALTER TABLE `phone_change_codes` ADD COLUMN IF NOT EXISTS `ip` varchar(255) DEFAULT NULL;
ALTER TABLE `phone_change_codes` ADD COLUMN IF NOT EXISTS `user_agent` varchar(255) DEFAULT NULL;
CREATE TABLE IF NOT EXISTS `account_creation_request_tokens` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `token` varchar(16) NOT NULL,
  `used` tinyint(1) NOT NULL DEFAULT 0,
  `validated_at` datetime DEFAULT NULL,
  `acc_creation_token_id` bigint(20) unsigned DEFAULT NULL,
  `created_at` timestamp NULL DEFAULT NULL,
  `updated_at` timestamp NULL DEFAULT NULL,
  `ip` varchar(255) DEFAULT NULL,
  `user_agent` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `account_creation_request_tokens_token_index` (`token`),
  KEY `account_creation_request_tokens_acc_creation_token_id_foreign` (`acc_creation_token_id`),
  CONSTRAINT `account_creation_request_tokens_acc_creation_token_id_foreign` FOREIGN KEY (`acc_creation_token_id`) REFERENCES `tokens` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE IF NOT EXISTS `account_recovery_tokens` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `token` varchar(255) NOT NULL,
  `pn_provider` varchar(255) NOT NULL,
  `pn_param` varchar(255) NOT NULL,
  `pn_prid` varchar(255) NOT NULL,
  `used` tinyint(1) NOT NULL DEFAULT 0,
  `ip` varchar(255) DEFAULT NULL,
  `user_agent` varchar(255) DEFAULT NULL,
  `account_id` int(10) unsigned DEFAULT NULL,
  `created_at` timestamp NULL DEFAULT NULL,
  `updated_at` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `account_recovery_tokens_token_index` (`token`),
  KEY `account_recovery_tokens_pn_provider_pn_param_pn_prid_index` (`pn_provider`,`pn_param`,`pn_prid`),
  KEY `account_recovery_tokens_account_id_foreign` (`account_id`),
  CONSTRAINT `account_recovery_tokens_account_id_foreign` FOREIGN KEY (`account_id`) REFERENCES `accounts` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE IF NOT EXISTS `provisioning_tokens` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `account_id` int(10) unsigned NOT NULL,
  `token` varchar(255) DEFAULT NULL,
  `used` tinyint(1) NOT NULL DEFAULT 0,
  `created_at` timestamp NULL DEFAULT NULL,
  `updated_at` timestamp NULL DEFAULT NULL,
  `ip` varchar(255) DEFAULT NULL,
  `user_agent` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `famd_provisioning_tokens_token_index` (`token`),
  KEY `provisioning_tokens_account_id_foreign` (`account_id`),
  CONSTRAINT `provisioning_tokens_account_id_foreign` FOREIGN KEY (`account_id`) REFERENCES `accounts` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE IF NOT EXISTS `auth_tokens` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `account_id` int(10) unsigned DEFAULT NULL,
  `token` varchar(32) NOT NULL,
  `created_at` timestamp NULL DEFAULT NULL,
  `updated_at` timestamp NULL DEFAULT NULL,
  `ip` varchar(255) DEFAULT NULL,
  `user_agent` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `famd_auth_tokens_token_index` (`token`),
  KEY `auth_tokens_account_id_foreign` (`account_id`),
  CONSTRAINT `auth_tokens_account_id_foreign` FOREIGN KEY (`account_id`) REFERENCES `accounts` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE IF NOT EXISTS `email_change_codes` (
  `id` int(10) unsigned NOT NULL AUTO_INCREMENT,
  `account_id` int(10) unsigned NOT NULL,
  `code` varchar(255) DEFAULT NULL,
  `email` varchar(255) NOT NULL,
  `created_at` timestamp NULL DEFAULT NULL,
  `updated_at` timestamp NULL DEFAULT NULL,
  `ip` varchar(255) DEFAULT NULL,
  `user_agent` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `email_change_codes_account_id_foreign` (`account_id`),
  CONSTRAINT `email_change_codes_account_id_foreign` FOREIGN KEY (`account_id`) REFERENCES `accounts` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE IF NOT EXISTS `reset_password_email_tokens` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `token` varchar(16) NOT NULL,
  `used` tinyint(1) NOT NULL DEFAULT 0,
  `email` varchar(255) NOT NULL,
  `account_id` int(10) unsigned NOT NULL,
  `ip` varchar(255) DEFAULT NULL,
  `user_agent` varchar(255) DEFAULT NULL,
  `created_at` timestamp NULL DEFAULT NULL,
  `updated_at` timestamp NULL DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `famd_reset_password_email_tokens_token_index` (`token`),
  KEY `reset_password_email_tokens_account_id_foreign` (`account_id`),
  CONSTRAINT `reset_password_email_tokens_account_id_foreign` FOREIGN KEY (`account_id`) REFERENCES `accounts` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
