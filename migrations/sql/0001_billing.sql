CREATE TABLE `billing_invoice_lines` (
	`customer_id` text NOT NULL,
	`period` text NOT NULL,
	`line_key` text NOT NULL,
	`stripe_invoice_item_id` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`customer_id`, `period`, `line_key`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `billing_invoice_lines_stripe_invoice_item_id_unique` ON `billing_invoice_lines` (`stripe_invoice_item_id`);--> statement-breakpoint
CREATE TABLE `billing_invoice_syncs` (
	`customer_id` text NOT NULL,
	`period` text NOT NULL,
	`state` text NOT NULL,
	`currency` text,
	`time_zone` text NOT NULL,
	`from_ms` integer NOT NULL,
	`to_ms` integer NOT NULL,
	`events` integer NOT NULL,
	`tokens` integer NOT NULL,
	`ledger_micros` integer NOT NULL,
	`carry_in_micros` integer NOT NULL,
	`carry_out_micros` integer NOT NULL,
	`billed_micros` integer NOT NULL,
	`total_minor` integer NOT NULL,
	`plan` text NOT NULL,
	`stripe_customer_id` text,
	`stripe_invoice_id` text,
	`stripe_invoice_status` text,
	`stripe_invoice_number` text,
	`stripe_total_minor` integer,
	`error` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`customer_id`, `period`),
	FOREIGN KEY (`customer_id`) REFERENCES `customers`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "billing_invoice_syncs_state_check" CHECK("billing_invoice_syncs"."state" in ('planned','invoice_created','items_created','finalized','reconciled','drift','nothing_to_bill','blocked')),
	CONSTRAINT "billing_invoice_syncs_period_check" CHECK("billing_invoice_syncs"."period" glob '[0-9][0-9][0-9][0-9]-[0-1][0-9]'),
	CONSTRAINT "billing_invoice_syncs_ledger_check" CHECK(typeof("billing_invoice_syncs"."ledger_micros") = 'integer' and "billing_invoice_syncs"."ledger_micros" >= 0),
	CONSTRAINT "billing_invoice_syncs_carry_in_check" CHECK(typeof("billing_invoice_syncs"."carry_in_micros") = 'integer' and "billing_invoice_syncs"."carry_in_micros" >= 0),
	CONSTRAINT "billing_invoice_syncs_carry_out_check" CHECK(typeof("billing_invoice_syncs"."carry_out_micros") = 'integer' and "billing_invoice_syncs"."carry_out_micros" >= 0),
	CONSTRAINT "billing_invoice_syncs_billed_check" CHECK(typeof("billing_invoice_syncs"."billed_micros") = 'integer' and "billing_invoice_syncs"."billed_micros" >= 0),
	CONSTRAINT "billing_invoice_syncs_total_check" CHECK(typeof("billing_invoice_syncs"."total_minor") = 'integer' and "billing_invoice_syncs"."total_minor" >= 0),
	CONSTRAINT "billing_invoice_syncs_exact_check" CHECK("billing_invoice_syncs"."billed_micros" + "billing_invoice_syncs"."carry_out_micros" = "billing_invoice_syncs"."ledger_micros" + "billing_invoice_syncs"."carry_in_micros"),
	CONSTRAINT "billing_invoice_syncs_stripe_total_check" CHECK("billing_invoice_syncs"."stripe_total_minor" is null or (typeof("billing_invoice_syncs"."stripe_total_minor") = 'integer' and "billing_invoice_syncs"."stripe_total_minor" >= 0))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `billing_invoice_syncs_stripe_invoice_unique` ON `billing_invoice_syncs` (`stripe_invoice_id`);--> statement-breakpoint
CREATE INDEX `billing_invoice_syncs_period_idx` ON `billing_invoice_syncs` (`period`,`state`);--> statement-breakpoint
CREATE TABLE `billing_stripe_prices` (
	`price_version_id` text NOT NULL,
	`role` text NOT NULL,
	`stripe_price_id` text NOT NULL,
	`stripe_product_id` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`price_version_id`, `role`),
	FOREIGN KEY (`price_version_id`) REFERENCES `price_versions`(`id`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "billing_stripe_prices_role_check" CHECK("billing_stripe_prices"."role" in ('offpeak','peak','batch','overage','fee'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `billing_stripe_prices_stripe_price_id_unique` ON `billing_stripe_prices` (`stripe_price_id`);--> statement-breakpoint
CREATE TABLE `billing_stripe_products` (
	`plan_id` text PRIMARY KEY NOT NULL,
	`stripe_product_id` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`plan_id`) REFERENCES `plans`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `billing_stripe_products_stripe_product_id_unique` ON `billing_stripe_products` (`stripe_product_id`);--> statement-breakpoint
CREATE TABLE `billing_subscriptions` (
	`customer_id` text PRIMARY KEY NOT NULL,
	`stripe_subscription_id` text NOT NULL,
	`stripe_price_id` text NOT NULL,
	`price_version_id` text NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`customer_id`) REFERENCES `customers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `billing_subscriptions_stripe_subscription_id_unique` ON `billing_subscriptions` (`stripe_subscription_id`);--> statement-breakpoint
CREATE TABLE `billing_unpaid_invoices` (
	`stripe_invoice_id` text PRIMARY KEY NOT NULL,
	`customer_id` text NOT NULL,
	`first_failed_at` integer NOT NULL,
	`last_failed_at` integer NOT NULL,
	`failures` integer NOT NULL,
	`paid_at` integer,
	`suspended_at` integer,
	FOREIGN KEY (`customer_id`) REFERENCES `customers`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `billing_unpaid_invoices_customer_idx` ON `billing_unpaid_invoices` (`customer_id`);--> statement-breakpoint
CREATE INDEX `billing_unpaid_open_idx` ON `billing_unpaid_invoices` (`paid_at`);--> statement-breakpoint
CREATE TABLE `billing_webhook_events` (
	`event_id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`state` text NOT NULL,
	`outcome` text,
	`attempts` integer DEFAULT 1 NOT NULL,
	`received_at` integer NOT NULL,
	`processed_at` integer,
	CONSTRAINT "billing_webhook_events_state_check" CHECK("billing_webhook_events"."state" in ('processing','done'))
);
