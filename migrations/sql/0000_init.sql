CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text NOT NULL,
	`hash` text NOT NULL,
	`prefix` text NOT NULL,
	`name` text,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	`last_used_at` integer,
	FOREIGN KEY (`customer_id`) REFERENCES `customers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_hash_unique` ON `api_keys` (`hash`);--> statement-breakpoint
CREATE INDEX `api_keys_customer_id_idx` ON `api_keys` (`customer_id`);--> statement-breakpoint
CREATE TABLE `customers` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`email` text NOT NULL,
	`plan_id` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`suspended_reason` text,
	`dedicated_pool` text,
	`stripe_customer_id` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`plan_id`) REFERENCES `plans`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "customers_status_check" CHECK("customers"."status" in ('active','suspended'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `customers_stripe_customer_id_unique` ON `customers` (`stripe_customer_id`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`customer_id` text NOT NULL,
	`key` text NOT NULL,
	`request_id` text NOT NULL,
	`request_hash` text,
	`status` text NOT NULL,
	`response_status` integer,
	`response_body` blob,
	`content_type` text,
	`headers` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`customer_id`, `key`),
	FOREIGN KEY (`customer_id`) REFERENCES `customers`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "idempotency_keys_status_check" CHECK("idempotency_keys"."status" in ('in_progress','done'))
);
--> statement-breakpoint
CREATE INDEX `idempotency_keys_expires_idx` ON `idempotency_keys` (`expires_at`);--> statement-breakpoint
CREATE TABLE `nodes` (
	`id` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`pool` text DEFAULT 'shared' NOT NULL,
	`weight` integer DEFAULT 1 NOT NULL,
	`state` text DEFAULT 'active' NOT NULL,
	`created_at` integer NOT NULL,
	CONSTRAINT "nodes_state_check" CHECK("nodes"."state" in ('active','draining','removed')),
	CONSTRAINT "nodes_weight_check" CHECK(typeof("nodes"."weight") = 'integer' and "nodes"."weight" >= 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `nodes_url_unique` ON `nodes` (`url`);--> statement-breakpoint
CREATE TABLE `plans` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`name` text NOT NULL,
	`currency` text NOT NULL,
	`time_zone` text NOT NULL,
	`requests_per_second` integer NOT NULL,
	`burst` integer NOT NULL,
	`max_in_flight` integer NOT NULL,
	`created_at` integer NOT NULL,
	CONSTRAINT "plans_kind_check" CHECK("plans"."kind" in ('basic','batch','enterprise')),
	CONSTRAINT "plans_currency_check" CHECK(length("plans"."currency") = 3),
	CONSTRAINT "plans_limits_check" CHECK("plans"."requests_per_second" > 0 and "plans"."burst" > 0 and "plans"."max_in_flight" > 0)
);
--> statement-breakpoint
CREATE TABLE `price_versions` (
	`id` text PRIMARY KEY NOT NULL,
	`plan_id` text NOT NULL,
	`version` integer NOT NULL,
	`effective_from` integer NOT NULL,
	`unit_price_micros_per_1k_tokens` integer NOT NULL,
	`peak_windows` text DEFAULT '[]' NOT NULL,
	`peak_multiplier_bp` integer DEFAULT 10000 NOT NULL,
	`batch_discount_bp` integer DEFAULT 0 NOT NULL,
	`monthly_fee_micros` integer DEFAULT 0 NOT NULL,
	`included_tokens` integer DEFAULT 0 NOT NULL,
	`overage_price_micros_per_1k_tokens` integer,
	`stripe_product_id` text,
	`stripe_price_id` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`plan_id`) REFERENCES `plans`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "price_versions_version_check" CHECK("price_versions"."version" > 0),
	CONSTRAINT "price_versions_unit_price_check" CHECK(typeof("price_versions"."unit_price_micros_per_1k_tokens") = 'integer' and "price_versions"."unit_price_micros_per_1k_tokens" >= 0),
	CONSTRAINT "price_versions_peak_multiplier_check" CHECK(typeof("price_versions"."peak_multiplier_bp") = 'integer' and "price_versions"."peak_multiplier_bp" >= 0),
	CONSTRAINT "price_versions_batch_discount_check" CHECK("price_versions"."batch_discount_bp" between 0 and 10000),
	CONSTRAINT "price_versions_monthly_fee_check" CHECK(typeof("price_versions"."monthly_fee_micros") = 'integer' and "price_versions"."monthly_fee_micros" >= 0),
	CONSTRAINT "price_versions_included_tokens_check" CHECK(typeof("price_versions"."included_tokens") = 'integer' and "price_versions"."included_tokens" >= 0),
	CONSTRAINT "price_versions_overage_price_check" CHECK("price_versions"."overage_price_micros_per_1k_tokens" is null or (typeof("price_versions"."overage_price_micros_per_1k_tokens") = 'integer' and "price_versions"."overage_price_micros_per_1k_tokens" >= 0))
);
--> statement-breakpoint
CREATE INDEX `price_versions_plan_effective_idx` ON `price_versions` (`plan_id`,`effective_from`);--> statement-breakpoint
CREATE UNIQUE INDEX `price_versions_plan_version_unique` ON `price_versions` (`plan_id`,`version`);--> statement-breakpoint
CREATE TABLE `usage_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`request_id` text NOT NULL,
	`customer_id` text NOT NULL,
	`api_key_id` text NOT NULL,
	`plan_id` text NOT NULL,
	`price_version_id` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`audio_ms` integer NOT NULL,
	`tokens` integer NOT NULL,
	`input_chars` integer NOT NULL,
	`peak` integer NOT NULL,
	`multiplier_bp` integer NOT NULL,
	`amount_micros` integer NOT NULL,
	`currency` text NOT NULL,
	`node_id` text,
	`priority` text NOT NULL,
	FOREIGN KEY (`customer_id`) REFERENCES `customers`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`api_key_id`) REFERENCES `api_keys`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`plan_id`) REFERENCES `plans`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`price_version_id`) REFERENCES `price_versions`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "usage_events_priority_check" CHECK("usage_events"."priority" in ('interactive','batch')),
	CONSTRAINT "usage_events_amount_check" CHECK(typeof("usage_events"."amount_micros") = 'integer' and "usage_events"."amount_micros" >= 0),
	CONSTRAINT "usage_events_tokens_check" CHECK(typeof("usage_events"."tokens") = 'integer' and "usage_events"."tokens" >= 0),
	CONSTRAINT "usage_events_audio_ms_check" CHECK(typeof("usage_events"."audio_ms") = 'integer' and "usage_events"."audio_ms" >= 0),
	CONSTRAINT "usage_events_input_chars_check" CHECK(typeof("usage_events"."input_chars") = 'integer' and "usage_events"."input_chars" >= 0),
	CONSTRAINT "usage_events_multiplier_check" CHECK(typeof("usage_events"."multiplier_bp") = 'integer' and "usage_events"."multiplier_bp" >= 0)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `usage_events_request_id_unique` ON `usage_events` (`request_id`);--> statement-breakpoint
CREATE INDEX `usage_events_customer_occurred_idx` ON `usage_events` (`customer_id`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `usage_events_occurred_idx` ON `usage_events` (`occurred_at`);