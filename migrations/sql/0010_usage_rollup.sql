CREATE TABLE `usage_daily` (
	`day_ms` integer NOT NULL,
	`customer_id` text NOT NULL,
	`plan_id` text NOT NULL,
	`peak` integer NOT NULL,
	`currency` text NOT NULL,
	`events` integer NOT NULL,
	`tokens` integer NOT NULL,
	`audio_ms` integer NOT NULL,
	`input_chars` integer NOT NULL,
	`amount_micros` integer NOT NULL,
	PRIMARY KEY(`day_ms`, `plan_id`, `customer_id`, `peak`, `currency`),
	CONSTRAINT "usage_daily_amount_check" CHECK(typeof("usage_daily"."amount_micros") = 'integer' and "usage_daily"."amount_micros" >= 0),
	CONSTRAINT "usage_daily_tokens_check" CHECK(typeof("usage_daily"."tokens") = 'integer' and "usage_daily"."tokens" >= 0)
);
--> statement-breakpoint
CREATE INDEX `usage_daily_customer_day_idx` ON `usage_daily` (`customer_id`,`day_ms`);--> statement-breakpoint
CREATE TABLE `usage_daily_plans` (
	`day_ms` integer NOT NULL,
	`plan_id` text NOT NULL,
	`peak` integer NOT NULL,
	`currency` text NOT NULL,
	`events` integer NOT NULL,
	`tokens` integer NOT NULL,
	`audio_ms` integer NOT NULL,
	`input_chars` integer NOT NULL,
	`amount_micros` integer NOT NULL,
	PRIMARY KEY(`day_ms`, `plan_id`, `peak`, `currency`),
	CONSTRAINT "usage_daily_plans_amount_check" CHECK(typeof("usage_daily_plans"."amount_micros") = 'integer' and "usage_daily_plans"."amount_micros" >= 0),
	CONSTRAINT "usage_daily_plans_tokens_check" CHECK(typeof("usage_daily_plans"."tokens") = 'integer' and "usage_daily_plans"."tokens" >= 0)
);
--> statement-breakpoint
CREATE TABLE `usage_monthly_customers` (
	`month_ms` integer NOT NULL,
	`customer_id` text NOT NULL,
	`peak` integer NOT NULL,
	`currency` text NOT NULL,
	`events` integer NOT NULL,
	`tokens` integer NOT NULL,
	`amount_micros` integer NOT NULL,
	PRIMARY KEY(`month_ms`, `customer_id`, `peak`, `currency`),
	CONSTRAINT "usage_monthly_customers_amount_check" CHECK(typeof("usage_monthly_customers"."amount_micros") = 'integer' and "usage_monthly_customers"."amount_micros" >= 0)
);
--> statement-breakpoint
CREATE TABLE `usage_rollup_state` (
	`id` integer PRIMARY KEY NOT NULL,
	`folded_through` integer NOT NULL,
	CONSTRAINT "usage_rollup_state_single_row" CHECK("usage_rollup_state"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE `usage_token_counts` (
	`day_ms` integer NOT NULL,
	`plan_id` text NOT NULL,
	`peak` integer NOT NULL,
	`currency` text NOT NULL,
	`tokens` integer NOT NULL,
	`events` integer NOT NULL,
	PRIMARY KEY(`plan_id`, `day_ms`, `peak`, `currency`, `tokens`),
	CONSTRAINT "usage_token_counts_events_check" CHECK(typeof("usage_token_counts"."events") = 'integer' and "usage_token_counts"."events" >= 0)
);
