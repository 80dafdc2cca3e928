-- The account panel's sessions (famd/panel): one row per logged-in browser,
-- shared by every famd process.  The row holds the SHA-256 of the session
-- id (the cookie), never the id itself; it goes with its account.
CREATE TABLE IF NOT EXISTS `famd_sessions` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `id_hash` varchar(64) NOT NULL,
  `account_id` int(10) unsigned NOT NULL,
  `created_at` datetime NOT NULL,
  `last_seen_at` datetime NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `famd_sessions_id_hash_unique` (`id_hash`),
  KEY `famd_sessions_account_id_index` (`account_id`),
  KEY `famd_sessions_last_seen_at_index` (`last_seen_at`),
  KEY `famd_sessions_created_at_index` (`created_at`),
  CONSTRAINT `famd_sessions_account_id_foreign` FOREIGN KEY (`account_id`) REFERENCES `accounts` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
